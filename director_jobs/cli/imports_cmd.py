"""`director imports …`: list, show and preview import sources."""

from __future__ import annotations

from director_jobs.cli.pipeline import imports  # noqa: F401 - commands are added below
