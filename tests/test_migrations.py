"""Schema migrations: the code's HEAD matches the scripts, and migrated == declared schema."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from director_jobs.db.database import Database
from director_jobs.db.migrate import HEAD_REVISION, MIGRATIONS_DIR
from director_jobs.db.schema import metadata


def test_head_revision_constant_matches_the_scripts() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_migrated_schema_equals_the_declared_tables(db_url: str) -> None:
    database = Database.open(db_url)
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    database.dispose()
    assert differences == []


def test_first_use_migrates_and_second_open_does_nothing(db_url: str) -> None:
    first = Database(db_url)
    assert first.schema_revision() is None
    first.dispose()
    database = Database.open(db_url)
    assert database.schema_revision() == HEAD_REVISION
    assert database.upgrade() is False  # already there
    assert {"jobs", "runs", "alembic_version"} <= set(inspect(database.engine).get_table_names())
    database.dispose()


def test_concurrent_first_use_migrates_once(db_url: str) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Database.open(db_url).dispose()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    database = Database(db_url)
    assert database.schema_revision() == HEAD_REVISION
    database.dispose()
