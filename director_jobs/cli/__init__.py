"""The `director` command line: thin click commands that parse, call the core and print."""

from __future__ import annotations

from director_jobs.cli import apply, db, jobs, timeperiods  # noqa: F401 - registers the commands
from director_jobs.cli.root import root


def main() -> None:
    """Console-script entry point."""
    root(prog_name="director")


__all__ = ["main", "root"]
