"""`sync`: apply the newest import of a source to monitoring objects through a sync rule."""

from __future__ import annotations

from typing import Any

from director_jobs.errors import DirectorJobsError
from director_jobs.job_types.base import (
    JobContext,
    JobFailed,
    JobResult,
    JobType,
    Parameter,
    Reference,
    ReferenceKind,
)
from director_jobs.job_types.importer import (
    ALL,
    check_name_or_all,
    failure_text,
    open_job_database,
)
from director_jobs.sync.service import SyncService


class SyncJob(JobType):
    """Run one rule or all ("*"); any rule that fails fails the run, naming it."""

    name = "sync"
    description = (
        "Apply the newest import of a source to objects (create, modify, purge); "
        "apply_changes=false only reports N create / N modify / N delete."
    )
    parameters = (
        Parameter("rule", (str,), 'Sync rule name, or "*" for every rule.', required=True),
        Parameter(
            "apply_changes", (bool,), "Write the changes; false only reports them.", default=True
        ),
    )

    def check(self, params: dict[str, Any]) -> None:
        """The rule is a valid name or "*"."""
        check_name_or_all(params["rule"], "parameters.rule")

    def references(self, params: dict[str, Any]) -> list[Reference]:
        """The named rule (not "*", which means whatever exists when it runs)."""
        if params["rule"] == ALL:
            return []
        return [Reference("parameters.rule", ReferenceKind.SYNC_RULE, params["rule"])]

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        """Run each rule in its own transaction; collect failures and raise them at the end."""
        database = open_job_database(context)
        created = modified = deleted = 0
        try:
            service = SyncService(database.engine, context.clock)
            names = service.names()
            if params["rule"] != ALL:
                if params["rule"] not in names:
                    raise JobFailed(f"sync rule {params['rule']!r} does not exist")
                names = [params["rule"]]
            elif not names:
                raise JobFailed('rule "*": no sync rules are defined')
            failures: list[str] = []
            for name in names:
                try:
                    outcome = service.run(name, apply=params["apply_changes"], force=context.force)
                except DirectorJobsError as exc:
                    context.logger.error("%s", exc)
                    failures.append(str(exc))
                    continue
                context.logger.info("%s", outcome.summary())
                counts = outcome.plan.counts
                created += counts.created
                modified += counts.modified
                deleted += counts.deleted
        finally:
            database.dispose()
        if failures:
            raise JobFailed(failure_text(failures, len(names), "sync rule"))
        total = f"{created} create / {modified} modify / {deleted} delete"
        return JobResult(summary=total if params["apply_changes"] else f"would {total}")
