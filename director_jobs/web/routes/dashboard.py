"""/: every job as a row, with counts at the top; /fragments/jobs: the same, for the poll."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from director_jobs.api.routes import params
from director_jobs.errors import DirectorJobsError
from director_jobs.model import Run
from director_jobs.services.jobs import JobFilter, JobView
from director_jobs.services.periods import PeriodService
from director_jobs.validation import zone
from director_jobs.web import words
from director_jobs.web.pages import Page, show

router = APIRouter()


@dataclass(slots=True)
class Row:
    """One job's row as the table writes it: every text made here, once, because a
    thousand rows of attribute look-ups and calls in the template cost tens of ms."""

    name: str
    path: str  # the name as a URL path segment
    tags: tuple[str, ...]
    disabled: bool
    type: str
    schedule: str  # in words
    timeperiod: str  # '' for none
    period_open: bool | None  # None: no time period (or an undefined one)
    state: str  # running, the last run's status, or never (data-state, for scripts)
    last_id: int | None  # the last finished run (None: never ran)
    last_status: str
    last_css: str  # the last run's status colour
    last_age: str  # `3 min ago`
    last_at: str  # when the last run ended, to the second
    last_took: str  # its duration
    running_id: int | None  # the run in progress
    running_for: str  # how long it has run so far
    progress: str  # its last line of output
    next_at: str  # the next start in the server's zone ('' for none)
    next_in: str  # `in 12 min`


@dataclass(frozen=True)
class Filters:
    """The dashboard's query: the API's filters plus a search text."""

    tag: str = ""
    type: str = ""
    status: str = ""
    search: str = ""

    def job_filter(self) -> JobFilter:
        """The service's filter (a bad status is a 422 naming `status`)."""
        return JobFilter(
            tag=self.tag or None,
            type=self.type or None,
            status=params.run_status(self.status or None),
        )

    def matches(self, view: JobView) -> bool:
        """Whether the search text is in the job's name, description or tags."""
        if not self.search:
            return True
        needle = self.search.lower()
        spec = view.job.spec
        return any(needle in text.lower() for text in (spec.name, spec.description, *spec.tags))


def filters_of(request: Request) -> Filters:
    """The filters in the page's query string."""
    q = request.query_params
    return Filters(q.get("tag", ""), q.get("type", ""), q.get("status", ""), q.get("q", ""))


def dashboard(page: Page, filters: Filters) -> dict[str, Any]:
    """What the dashboard shows (blocking: reads the jobs, their last runs, periods)."""
    jobs = page.api.jobs()
    every = jobs.overview()
    now = page.api.clock.now()
    instants = words.Instants(zone(page.api.settings.timezone), now)
    periods = jobs.periods
    open_now: dict[str, bool | None] = {}
    rows = []
    where = filters.job_filter()
    for view in every:
        if not (where.admits(view) and filters.matches(view)):
            continue
        name = view.job.spec.timeperiod
        if name and name not in open_now:
            open_now[name] = _is_open(periods, name, now)
        running = page.api.database.runs.running_of(view.job.name) if view.running else None
        elapsed = None
        if running is not None and running.started_at is not None:
            elapsed = max(0.0, (now - running.started_at).total_seconds())
        state = open_now.get(name) if name else None
        rows.append(_row(view, state, running, elapsed, instants))
    return {
        "rows": rows,
        "filters": filters,
        "total": len(every),
        "failed": sum(1 for v in every if v.last_run and v.last_run.status.failed),
        "running": sum(1 for v in every if v.running),
        "disabled": sum(1 for v in every if v.job.spec.disabled),
        "tags": sorted({t for v in every for t in v.job.spec.tags}),
        "types": sorted({v.job.spec.type for v in every}),
    }


def _row(
    view: JobView,
    period_open: bool | None,
    running: Run | None,
    elapsed: float | None,
    instants: words.Instants,
) -> Row:
    """A job's row with its texts."""
    job, last, next_start = view.job, view.last_run, view.next_start
    ended = last.finished_at if last else None
    state = "running" if view.running else (last.status.value if last else "never")
    return Row(
        name=job.name,
        path=quote(job.name, safe=""),
        tags=tuple(job.spec.tags),
        disabled=job.spec.disabled,
        type=job.spec.type,
        schedule=words.schedule_words(job),
        timeperiod=job.spec.timeperiod or "",
        period_open=period_open,
        state=state,
        last_id=last.id if last else None,
        last_status=last.status.value if last else "",
        last_css=words.status_class(last.status) if last else "none",
        last_age=instants.age(ended),
        last_at=instants.local(ended, with_seconds=True),
        last_took=words.duration_words(last.duration) if last else "",
        running_id=running.id if running else None,
        running_for=words.duration_words(elapsed) if view.running else "",
        progress=(running.progress or _last_line(running)) if running else "",
        next_at=instants.local(next_start) if next_start else "",
        next_in=instants.age(next_start) if next_start else "",
    )


def _is_open(periods: PeriodService | None, name: str, now: datetime) -> bool | None:
    """Whether the period is open now; None when it is not defined (the job page says so)."""
    if periods is None:
        return None
    try:
        return periods.period(name).contains(now)
    except DirectorJobsError:
        return None


def _last_line(run: Run | None) -> str:
    """The last non-empty line a running job printed: its progress, as far as we know."""
    if run is None:
        return ""
    for line in reversed(run.output.splitlines()):
        if line.strip():
            return line.strip()
    return ""


@router.get("/", include_in_schema=False)
async def dashboard_page(request: Request) -> Response:
    """The dashboard."""
    filters = filters_of(request)
    return await show(
        request, "viewer", lambda p: p.html("dashboard.html", **dashboard(p, filters))
    )


@router.get("/fragments/jobs", include_in_schema=False)
async def dashboard_fragment(request: Request) -> Response:
    """The dashboard's live part alone: what its script fetches every few seconds."""
    filters = filters_of(request)
    return await show(request, "viewer", lambda p: p.html("_jobs.html", **dashboard(p, filters)))
