"""`director sync …` and `director objects …`: sync rules and the objects they own."""

from __future__ import annotations

from director_jobs.cli.pipeline import objects, sync  # noqa: F401 - commands are added below
