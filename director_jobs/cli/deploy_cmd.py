"""`director deployments …` and `director config render`: Icinga 2 configuration."""

from __future__ import annotations

from director_jobs.cli.pipeline import config, deployments  # noqa: F401 - commands are added below
