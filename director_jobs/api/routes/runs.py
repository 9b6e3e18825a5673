"""/api/v1/runs: pages of the run history, one run, and its output."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from director_jobs.api import log_stream
from director_jobs.api.auth import Access, operator, viewer
from director_jobs.api.routes import params
from director_jobs.errors import Busy
from director_jobs.services.runs import MAX_PAGE, LogChunk, RunQuery
from director_jobs.services.shapes import delivery_json, run_json
from director_jobs.services.tokens import Caller

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("")
async def list_runs(
    job: str | None = None,
    status: str | None = None,
    since: str | None = Query(None, description="ISO 8601 with an offset: runs started since."),
    limit: int = Query(50, description=f"Runs per page, 1-{MAX_PAGE}."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
    access: Access = Depends(viewer),  # noqa: B008
) -> JSONResponse:
    """Runs, newest first, a page at a time."""

    def work(_: Caller) -> dict[str, Any]:
        query = RunQuery(
            job=None if job is None else params.name(job, "job"),
            status=params.run_status(status),
            since=params.instant(since, "since"),
            cursor=cursor,
            limit=limit,
        )
        page = access.api.runs().page(query)
        return {"runs": [run_json(r) for r in page.runs], "next_cursor": page.next_cursor}

    return JSONResponse(await access.run(work))


@router.get("/{run_id}")
async def show_run(run_id: int, access: Access = Depends(viewer)) -> JSONResponse:  # noqa: B008
    """One run, with how its notifications went."""

    def work(_: Caller) -> dict[str, Any]:
        runs = access.api.runs()
        notifications = [delivery_json(d) for d in runs.notifications(run_id)]
        return {**run_json(runs.get(run_id)), "notifications": notifications}

    return JSONResponse(await access.run(work))


@router.post("/{run_id}/stop", status_code=202)
async def stop_run(run_id: int, access: Access = Depends(operator)) -> JSONResponse:  # noqa: B008
    """Ask the runner holding the run to kill its job (202); 409 when it is not running."""

    def work(caller: Caller) -> dict[str, Any]:
        run = access.api.runs().stop(run_id, f"api:{caller.name}")
        return {"run": run_json(run), "stop_requested": True}

    return JSONResponse(await access.run(work), status_code=202)


@router.get("/{run_id}/log", response_model=None)
async def run_log(
    run_id: int,
    follow: bool = Query(False, description="Stream the lines as Server-Sent Events."),
    after: int = Query(0, ge=0, description="Lines already seen: only newer ones."),
    last_event_id: str | None = Header(None, description="Set by a reconnecting follower."),
    access: Access = Depends(viewer),  # noqa: B008
) -> JSONResponse | log_stream.FollowResponse:
    """The run's output so far (its last 64 KiB, the job's secrets masked), or a stream of
    it until the run ends (follow=true)."""
    api, service = access.api, access.api.runs()

    def work(_: Caller) -> tuple[int, LogChunk]:
        seen = after if last_event_id is None else params.count(last_event_id, "Last-Event-ID")
        return seen, service.log(run_id, seen)  # an unknown run: 404 before a stream opens

    seen, chunk = await access.run(work)
    if not follow:
        run = chunk.run
        return JSONResponse(
            {
                "id": run.id,
                "job": run.job_name,
                "status": run.status.value,
                "output": "\n".join(chunk.lines),
                "first_line": chunk.first,
                "lines": chunk.seen,
                "missed": chunk.missed,
            }
        )
    if not api.followers.take():
        raise Busy(f"follow: {api.followers.limit} log streams are open; try again later")
    return log_stream.FollowResponse(log_stream.follow(service, run_id, seen), api.followers)
