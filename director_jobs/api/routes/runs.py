"""/api/v1/runs: pages of the run history, one run, and its output."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from director_jobs.api import log_stream
from director_jobs.api.auth import operator, viewer
from director_jobs.api.context import ApiContext, context
from director_jobs.api.routes import params
from director_jobs.errors import Busy
from director_jobs.services.runs import MAX_PAGE, RunQuery
from director_jobs.services.shapes import run_json
from director_jobs.services.tokens import Caller

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("")
def list_runs(
    job: str | None = None,
    status: str | None = None,
    since: str | None = Query(None, description="ISO 8601 with an offset: runs started since."),
    limit: int = Query(50, description=f"Runs per page, 1-{MAX_PAGE}."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
    api: ApiContext = Depends(context),  # noqa: B008
    _: Caller = Depends(viewer),  # noqa: B008
) -> dict[str, Any]:
    """Runs, newest first, a page at a time."""
    query = RunQuery(
        job=None if job is None else params.name(job, "job"),
        status=params.run_status(status),
        since=params.instant(since, "since"),
        cursor=cursor,
        limit=limit,
    )
    page = api.runs().page(query)
    return {"runs": [run_json(r) for r in page.runs], "next_cursor": page.next_cursor}


@router.get("/{run_id}")
def show_run(
    run_id: int,
    api: ApiContext = Depends(context),  # noqa: B008
    _: Caller = Depends(viewer),  # noqa: B008
) -> dict[str, Any]:
    """One run."""
    return run_json(api.runs().get(run_id))


@router.post("/{run_id}/stop", status_code=202)
def stop_run(
    run_id: int,
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(operator),  # noqa: B008
) -> JSONResponse:
    """Ask the runner holding the run to kill its job (202); 409 when it is not running."""
    run = api.runs().stop(run_id, f"api:{caller.name}")
    return JSONResponse({"run": run_json(run), "stop_requested": True}, status_code=202)


@router.get("/{run_id}/log", response_model=None)
def run_log(
    run_id: int,
    follow: bool = Query(False, description="Stream the lines as Server-Sent Events."),
    after: int = Query(0, ge=0, description="Lines already seen: only newer ones."),
    last_event_id: str | None = Header(None, description="Set by a reconnecting follower."),
    api: ApiContext = Depends(context),  # noqa: B008
    _: Caller = Depends(viewer),  # noqa: B008
) -> dict[str, Any] | log_stream.FollowResponse:
    """The run's output so far (its last 64 KiB, the job's secrets masked), or a stream of
    it until the run ends (follow=true)."""
    service = api.runs()
    if last_event_id is not None:
        after = params.count(last_event_id, "Last-Event-ID")
    chunk = service.log(run_id, after)  # an unknown run is 404 before any stream opens
    if not follow:
        run = chunk.run
        return {
            "id": run.id,
            "job": run.job_name,
            "status": run.status.value,
            "output": "\n".join(chunk.lines),
            "first_line": chunk.first,
            "lines": chunk.seen,
            "missed": chunk.missed,
        }
    if not api.followers.take():
        raise Busy(f"follow: {api.followers.limit} log streams are open; try again later")
    return log_stream.FollowResponse(log_stream.follow(service, run_id, after), api.followers)
