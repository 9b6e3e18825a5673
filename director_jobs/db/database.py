"""One object per process that owns the engine and hands out the repositories."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from director_jobs.db.activity_repo import ActivityRepository
from director_jobs.db.engine import build_engine, cannot_connect, safe_url
from director_jobs.db.failures import first_line
from director_jobs.db.jobs_repo import JobRepository
from director_jobs.db.migrate import HEAD_REVISION, upgrade
from director_jobs.db.notifications_repo import NotificationRepository
from director_jobs.db.periods_repo import PeriodRepository
from director_jobs.db.runners_repo import RunnerRepository
from director_jobs.db.runs_repo import RunRepository
from director_jobs.db.sessions_repo import SessionRepository
from director_jobs.db.tokens_repo import TokenRepository
from director_jobs.errors import ConfigError, DatabaseUnavailable

log = logging.getLogger(__name__)


class Database:
    """The engine plus repositories; `open` connects and migrates, `dispose` closes."""

    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        self.url = url
        self.engine = build_engine(url, pool_size)
        self.jobs = JobRepository(self.engine)
        self.runs = RunRepository(self.engine)
        self.periods = PeriodRepository(self.engine)
        self.runners = RunnerRepository(self.engine)
        self.tokens = TokenRepository(self.engine)
        self.sessions = SessionRepository(self.engine)
        self.activity = ActivityRepository(self.engine)
        self.notifications = NotificationRepository(self.engine)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        """Connect, check the schema revision, and migrate when behind (and allowed)."""
        database = cls(url)
        revision = database.schema_revision()
        if revision != HEAD_REVISION:
            if database.read_only:
                raise ConfigError(
                    f"database_url: {safe_url(url)!r} is read-only for this user and its "
                    f"schema is at {revision or 'nothing'}, not {HEAD_REVISION}: run "
                    "`director db upgrade` as the user who owns it"
                )
            if not migrate:
                raise ConfigError(
                    f"database_url: schema of {safe_url(url)!r} is at {revision or 'nothing'}, "
                    f"this version needs {HEAD_REVISION}: run `director db upgrade`"
                )
            log.info(
                "migrating %s from %s to %s", safe_url(url), revision or "empty", HEAD_REVISION
            )
            database.upgrade()
        return database

    @property
    def read_only(self) -> bool:
        """True when this user can only read the (SQLite) database: inspection works."""
        return self.engine.url.query.get("mode") == "ro"

    def schema_revision(self) -> str | None:
        """The stored schema revision; DatabaseUnavailable when the server cannot be reached."""
        try:
            connection = self.engine.connect()
        except DBAPIError as exc:
            raise cannot_connect(self.url, first_line(exc)) from None
        with connection:
            try:
                return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except DBAPIError:
                return None  # no alembic_version table yet: an empty database

    def upgrade(self, revision: str = "head") -> bool:
        """Run migrations; DatabaseUnavailable when the server goes away meanwhile."""
        try:
            return upgrade(self.engine, revision)
        except DBAPIError as exc:
            raise DatabaseUnavailable(
                f"database_url: migrating {safe_url(self.url)!r} failed: {first_line(exc)}"
            ) from None

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
