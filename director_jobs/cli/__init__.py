"""The `director` command line: thin click commands that parse, call the core and print."""

from __future__ import annotations

from director_jobs.cli import (  # noqa: F401 - each module registers its commands
    apply,
    db,
    deploy_cmd,
    imports_cmd,
    jobs,
    sync_cmd,
    timeperiods,
)
from director_jobs.cli.root import root


def main() -> None:
    """Console-script entry point."""
    root(prog_name="director")


__all__ = ["main", "root"]
