"""The object click passes to every command: settings, database, registry, clock — built lazily."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from director_jobs.clock import Clock, SystemClock
from director_jobs.db.database import Database
from director_jobs.job_types.registry import Registry
from director_jobs.logs import LEVELS, setup_logging
from director_jobs.settings import Settings, load_settings

log = logging.getLogger("director_jobs")


@dataclass
class App:
    """Per-invocation state; nothing is opened until a command asks for it."""

    config_path: str | None = None
    database_url: str | None = None
    timezone: str | None = None
    containment: str | None = None
    log_level: str | None = None
    trace: bool = False
    clock: Clock = field(default_factory=SystemClock)
    _settings: Settings | None = None
    _database: Database | None = None
    _registry: Registry | None = None
    _logging: bool = False
    verbose: bool = False  # -v, --debug or --trace was given

    def raise_log_level(self, level: str | None, *, asked: bool = True) -> None:
        """Let a subcommand's -v/--debug/--trace ask for more detail than the group's.

        `asked=False`: a command's own default (`jobs execute` shows INFO), which does not
        make the set-up lines (which database) appear.
        """
        if level is not None and (self.log_level is None or LEVELS[level] < LEVELS[self.log_level]):
            self.log_level = level
        if asked and level is not None:
            self.verbose = True

    @property
    def settings(self) -> Settings:
        """Resolve the settings once."""
        if self._settings is None:
            self._settings = load_settings(
                config_path=self.config_path,
                database_url=self.database_url,
                timezone=self.timezone,
                containment=self.containment,
            )
        return self._settings

    def start_logging(self, *, timestamps: bool = True) -> None:
        """Install the log handler at the requested level (flags win over the config file)."""
        name = self.log_level or (self.settings.log_level or "warning").lower()
        setup_logging(LEVELS.get(name, logging.ERROR), timestamps=timestamps)
        self._logging = True

    def reset_settings(self) -> None:
        """Forget the resolved settings (SIGHUP): the next use reads the file again."""
        self._settings = None

    def restore_settings(self, settings: Settings) -> None:
        """Put back settings that a failed reload replaced."""
        self._settings = settings

    @property
    def database(self) -> Database:
        """Open (and migrate) the database on first use; -v says which one it is."""
        if self._database is None:
            if not self._logging:
                self.start_logging()
            from director_jobs.db.engine import safe_url

            url = self.settings.database_url
            self._database = Database.open(url)
            if self.verbose:
                log.info(
                    "database: %s%s",
                    safe_url(url),
                    " (read-only)" if self._database.read_only else "",
                )
        return self._database

    @property
    def registry(self) -> Registry:
        """The job-type registry."""
        if self._registry is None:
            self._registry = Registry()
        return self._registry

    def close(self) -> None:
        """Release the database connections."""
        if self._database is not None:
            self._database.dispose()
