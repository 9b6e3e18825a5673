"""The `director` command line: thin click commands that parse, call the core and print.

Each top-level command's module is imported when that command runs (cli/root.py).
"""

from __future__ import annotations

from director_jobs.cli.root import root


def main() -> None:
    """Console-script entry point."""
    root(prog_name="director")


__all__ = ["main", "root"]
