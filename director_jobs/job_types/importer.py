"""`import`: read import sources and store a run for each whose data changed."""

from __future__ import annotations

import functools
from typing import Any

from director_jobs.db.database import Database
from director_jobs.errors import DirectorJobsError, InvalidInput
from director_jobs.imports.service import ImportService, ImportStatus
from director_jobs.job_types.base import (
    JobContext,
    JobFailed,
    JobResult,
    JobType,
    Parameter,
    Reference,
    ReferenceKind,
)
from director_jobs.validation import validate_name

ALL = "*"


class ImportJob(JobType):
    """Import one source or all ("*"); any source that fails fails the run, naming it."""

    name = "import"
    description = (
        "Read import sources (CSV, JSON, SQL) and store the rows when they changed; "
        "run_import=false only reports whether they changed."
    )
    parameters = (
        Parameter("source", (str,), 'Import source name, or "*" for every source.', required=True),
        Parameter(
            "run_import", (bool,), "Store the import; false only checks for changes.", default=True
        ),
    )

    def check(self, params: dict[str, Any]) -> None:
        """The source is a valid name or "*"."""
        check_name_or_all(params["source"], "parameters.source")

    def references(self, params: dict[str, Any]) -> list[Reference]:
        """The named source (not "*", which means whatever exists when it runs)."""
        if params["source"] == ALL:
            return []
        return [Reference("parameters.source", ReferenceKind.IMPORT_SOURCE, params["source"])]

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        """Import each source; collect failures and raise them together at the end."""
        database = open_job_database(context)
        try:
            service = ImportService(database.engine, context.clock)
            names = _names(service, params["source"])
            stored = unchanged = 0
            failures: list[str] = []
            for name in names:
                try:
                    outcome = service.run(
                        name,
                        store=params["run_import"],
                        force=context.force,
                        on_rows=functools.partial(_report_rows, context, name),
                    )
                except DirectorJobsError as exc:
                    context.logger.error("%s", exc)
                    failures.append(str(exc))
                    continue
                context.logger.info("%s", outcome.summary())
                if outcome.status is ImportStatus.UNCHANGED:
                    unchanged += 1
                else:
                    stored += 1
        finally:
            database.dispose()
        if failures:
            raise JobFailed(failure_text(failures, len(names), "import source"))
        verb = "stored" if params["run_import"] else "changed"
        return JobResult(summary=f"{stored} {verb}, {unchanged} unchanged")


def _report_rows(context: JobContext, source: str, rows: int) -> None:
    """The import's progress line: `source cmdb: 12000 rows read`."""
    context.progress(f"source {source}: {rows} rows read")


def open_job_database(context: JobContext) -> Database:
    """The job's own connection to the runner's database (no migration from a job)."""
    if not context.database_url:
        raise JobFailed("this job type needs the runner's database; none was given to it")
    return Database(context.database_url)


def _names(service: ImportService, wanted: str) -> list[str]:
    """The sources to import: one that must exist, or all (at least one)."""
    names = service.names()
    if wanted == ALL:
        if not names:
            raise JobFailed('source "*": no import sources are defined')
        return names
    if wanted not in names:
        raise JobFailed(f"import source {wanted!r} does not exist")
    return [wanted]


def check_name_or_all(value: str, field: str) -> None:
    """`value` is "*" or a valid name; InvalidInput names `field` otherwise."""
    if value != ALL:
        try:
            validate_name(value, field)
        except InvalidInput as exc:
            raise InvalidInput(exc.field, exc.value, f'{exc.expected}, or "*"') from None


def failure_text(failures: list[str], total: int, what: str) -> str:
    """The run's error: the one failure, or how many failed followed by each."""
    if len(failures) == 1 and total == 1:
        return failures[0]
    return f"{len(failures)} of {total} {what}s failed: " + "; ".join(failures)
