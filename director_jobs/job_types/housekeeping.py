"""`housekeeping`: purge old runs, unused import data and old deployments (small database)."""

from __future__ import annotations

from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.job_types.base import JobContext, JobFailed, JobResult, JobType, Parameter

# A century: longer retention is no retention, and timedelta overflows past ~2.7 million years.
MAX_KEEP_DAYS = 36_500


class HousekeepingJob(JobType):
    """Apply the retention policy and, on SQLite, VACUUM."""

    name = "housekeeping"
    description = "Purge old runs, unused import runs and rows, and old deployments."
    parameters = (
        Parameter("keep_runs_days", (int, float), "Remove runs that ended longer ago.", default=30),
        Parameter("keep_runs_per_job", (int,), "Keep at most this many runs per job.", default=100),
        Parameter("keep_import_runs", (int,), "Import runs kept per source (≥ 1).", default=5),
        Parameter(
            "keep_deployments",
            (int,),
            "Deployments kept (plus each target's last good one).",
            default=50,
        ),
        Parameter(
            "keep_activity_days",
            (int, float),
            "Remove activity log entries older than this.",
            default=365,
        ),
        Parameter("vacuum", (bool,), "VACUUM afterwards (SQLite only).", default=True),
    )

    def check(self, params: dict[str, Any]) -> None:
        """All limits must be sensible numbers."""
        for days in ("keep_runs_days", "keep_activity_days"):
            if not 0 < params[days] <= MAX_KEEP_DAYS:
                raise InvalidInput(
                    f"parameters.{days}", params[days], f"expected days > 0 and <= {MAX_KEEP_DAYS}"
                )
        for key, minimum in (
            ("keep_runs_per_job", 1),
            ("keep_import_runs", 1),
            ("keep_deployments", 0),
        ):
            if params[key] < minimum:
                raise InvalidInput(
                    f"parameters.{key}", params[key], f"expected a whole number >= {minimum}"
                )

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        """Purge in one transaction, then vacuum."""
        from director_jobs.db.database import Database
        from director_jobs.db.retention import Policy, purge, vacuum

        if context.database_url is None:
            raise JobFailed("housekeeping needs the runner's database")
        database = Database(context.database_url)
        try:
            removed = purge(
                database.engine,
                Policy(
                    keep_runs_days=params["keep_runs_days"],
                    keep_runs_per_job=params["keep_runs_per_job"],
                    keep_import_runs=params["keep_import_runs"],
                    keep_deployments=params["keep_deployments"],
                    keep_activity_days=params["keep_activity_days"],
                ),
                context.clock.now(),
            )
            context.logger.info("%s", removed.summary())
            if params["vacuum"] and vacuum(database.engine):
                context.logger.info("vacuumed the SQLite database")
        finally:
            database.dispose()
        return JobResult(summary=removed.summary())
