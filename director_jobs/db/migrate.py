"""Bring the schema to the newest revision; cheap when it is there already (no Alembic import)."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

# The newest Alembic revision. tests/test_migrations.py checks that it matches the
# scripts, so forgetting to bump it after adding a migration fails the suite.
HEAD_REVISION = "0015"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Any 64-bit number unique to this application: serialises concurrent migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 0x6469726A6F6273  # "dirjobs"


def upgrade(engine: Engine, revision: str = "head") -> bool:
    """Run the Alembic migrations under a lock, so that concurrent first runs do not collide."""
    with engine.connect() as connection:
        _lock(connection)
        before = _revision_in(connection)
        if before == HEAD_REVISION and revision == "head":
            connection.rollback()
            return False
        _run_alembic(connection, revision)
        connection.commit()
    return True


def _lock(connection: Connection) -> None:
    """Take a database-wide lock for the rest of the transaction."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})


def _revision_in(connection: Connection) -> str | None:
    """Read the revision inside the current transaction (None when the table is missing)."""
    if connection.dialect.name == "sqlite":
        found = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).scalar()
    else:
        from sqlalchemy import inspect

        found = inspect(connection).has_table("alembic_version")
    if not found:
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _run_alembic(connection: Connection, revision: str) -> None:
    """Upgrade with Alembic on `connection` (imported here: only migrations pay for it)."""
    # Alembic's INFO lines (plug-ins as it is imported, "Context impl", each revision) are
    # detail for --debug; at -v the one "migrating URL from A to B" line says what happens.
    if not logging.getLogger("director_jobs").isEnabledFor(logging.DEBUG):
        logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
