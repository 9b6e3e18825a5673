"""Job-type lookup: an explicit table of built-ins, entry points for third parties (lazy)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from director_jobs.errors import DirectorJobsError, UnknownJobType
from director_jobs.job_types.base import JobType

ENTRY_POINT_GROUP = "director_jobs.job_types"

# name -> "module:Class"; imported only when a job of that type runs or is validated.
BUILTIN_TYPES: dict[str, str] = {
    "self-check": "director_jobs.job_types.self_check:SelfCheckJob",
    "command": "director_jobs.job_types.command:CommandJob",
    "import": "director_jobs.job_types.importer:ImportJob",
    "sync": "director_jobs.job_types.sync:SyncJob",
    "config-deploy": "director_jobs.job_types.config_deploy:ConfigDeployJob",
    "housekeeping": "director_jobs.job_types.housekeeping:HousekeepingJob",
}

log = logging.getLogger(__name__)


class JobTypeBroken(DirectorJobsError):
    """A job type exists but cannot be loaded (a broken plug-in); its jobs fail, others run."""


@dataclass(frozen=True)
class JobTypeInfo:
    """A type's name, description and where it comes from, for `jobs types`."""

    name: str
    description: str
    origin: str


class Registry:
    """Resolves type names to JobType instances, caching them; never lets a plug-in escape."""

    def __init__(self, builtins: dict[str, str] | None = None) -> None:
        self._builtins = dict(BUILTIN_TYPES if builtins is None else builtins)
        self._loaded: dict[str, JobType] = {}
        self._plugins: dict[str, EntryPoint] | None = None

    def _plugin_entry_points(self) -> dict[str, EntryPoint]:
        """Read the entry-point table once (it scans installed distributions)."""
        if self._plugins is None:
            self._plugins = {}
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                if entry_point.name in self._builtins:
                    log.warning(
                        "plug-in job type %r (%s) ignored: a built-in type has that name",
                        entry_point.name,
                        entry_point.value,
                    )
                    continue
                self._plugins[entry_point.name] = entry_point
        return self._plugins

    def names(self) -> list[str]:
        """All type names, built-ins first, without loading any plug-in."""
        return sorted(self._builtins) + sorted(self._plugin_entry_points())

    def get(self, name: str) -> JobType:
        """Return the type `name`; UnknownJobType lists the known ones, JobTypeBroken explains."""
        if name in self._loaded:
            return self._loaded[name]
        if name in self._builtins:
            module_name, _, class_name = self._builtins[name].partition(":")
            origin = "built-in"
            try:
                cls = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError) as exc:  # e.g. a missing optional dependency
                raise JobTypeBroken(
                    f"job type {name!r}: cannot load {module_name}: {type(exc).__name__}: {exc}"
                ) from exc
        elif name in self._plugin_entry_points():
            entry_point = self._plugin_entry_points()[name]
            origin = f"plug-in {entry_point.value}"
            try:
                cls = entry_point.load()
            except Exception as exc:  # a plug-in may fail in any way; contain it
                raise JobTypeBroken(
                    f"job type {name!r}: cannot load {origin}: {type(exc).__name__}: {exc}"
                ) from exc
        else:
            raise UnknownJobType(
                f"type: unknown job type {name!r}; known types: {', '.join(self.names())}"
            )
        instance = self._instantiate(name, cls, origin)
        self._loaded[name] = instance
        return instance

    def validated(self, name: str, params: Mapping[str, Any]) -> tuple[JobType, dict[str, Any]]:
        """The type `name` and `params` checked by it; a plug-in's own bug is JobTypeBroken.

        InvalidInput (and our other errors) pass through: they are the user's to fix. Any
        other exception from a plug-in's check is contained here, so that it fails only the
        jobs of that type instead of escaping from the runner with a job claimed.
        """
        job_type = self.get(name)
        try:
            return job_type, job_type.validate(params)
        except DirectorJobsError:
            raise
        except Exception as exc:
            raise JobTypeBroken(
                f"job type {name!r}: its parameter check failed: {type(exc).__name__}: {exc}"
            ) from exc

    @staticmethod
    def _instantiate(name: str, cls: object, origin: str) -> JobType:
        """Check that `cls` really is a job type with a name and description, and create it."""
        if not (isinstance(cls, type) and issubclass(cls, JobType)):
            raise JobTypeBroken(f"job type {name!r}: {origin} is not a JobType subclass")
        for attribute in ("name", "description"):
            if not isinstance(getattr(cls, attribute, None), str):
                raise JobTypeBroken(
                    f"job type {name!r}: {origin} does not set the class attribute {attribute!r}"
                )
        try:
            return cls()
        except Exception as exc:
            raise JobTypeBroken(
                f"job type {name!r}: {origin} failed to start: {type(exc).__name__}: {exc}"
            ) from exc

    def describe(self) -> list[JobTypeInfo]:
        """Name, description and origin of every type; broken plug-ins say why."""
        infos = []
        for name in self.names():
            try:
                job_type = self.get(name)
            except JobTypeBroken as exc:
                origin = "built-in" if name in self._builtins else "plug-in"
                infos.append(JobTypeInfo(name, f"BROKEN: {exc}", origin))
                continue
            origin = "built-in" if name in self._builtins else "plug-in"
            infos.append(JobTypeInfo(name, job_type.description, origin))
        return infos
