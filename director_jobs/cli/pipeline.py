"""Command groups of the Director pipeline; each group's commands live in their own module."""

from __future__ import annotations

from director_jobs.cli.root import root


@root.group("imports")
def imports() -> None:
    """Import sources and what they read (CSV, JSON, SQL)."""


@root.group("sync")
def sync() -> None:
    """Sync rules: import rows → monitoring objects."""


@root.group("objects")
def objects() -> None:
    """Monitoring objects (hosts, services, …) that sync rules own."""


@root.group("deployments")
def deployments() -> None:
    """Icinga 2 configuration deployments."""


@root.group("config")
def config() -> None:
    """Icinga 2 configuration rendered from the objects."""


__all__ = ["config", "deployments", "imports", "objects", "sync"]
