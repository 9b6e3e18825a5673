"""/api/v1/jobs: the jobs with their last run, one job, trigger, enable and disable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from director_jobs.api.auth import operator, viewer
from director_jobs.api.context import ApiContext, context
from director_jobs.api.routes import params
from director_jobs.services.jobs import JobFilter
from director_jobs.services.shapes import detail_json, overview_json, run_json
from director_jobs.services.tokens import Caller

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("")
def list_jobs(
    tag: str | None = None,
    type: str | None = None,  # the query parameter's public name
    status: str | None = Query(None, description="Status of the last run, e.g. error."),
    disabled: bool | None = None,
    api: ApiContext = Depends(context),  # noqa: B008
    _: Caller = Depends(viewer),  # noqa: B008
) -> JSONResponse:
    """Every job with its schedule, next start, last run and whether it runs now."""
    where = JobFilter(tag=tag, type=type, status=params.run_status(status), disabled=disabled)
    body = {"jobs": [overview_json(view) for view in api.jobs().overview(where)]}
    # Plain JSON already: a JSONResponse skips FastAPI's generic encoder, which took
    # longer than building the list itself for 1,000 jobs (docs/benchmarks.md).
    return JSONResponse(body)


@router.get("/{name}")
def show_job(
    name: str,
    api: ApiContext = Depends(context),  # noqa: B008
    _: Caller = Depends(viewer),  # noqa: B008
) -> dict[str, Any]:
    """One job: definition, effective parameters, state and its newest runs."""
    return detail_json(api.jobs().detail(params.name(name)))


@router.post("/{name}/trigger", status_code=202)
def trigger_job(
    name: str,
    queue: bool = Query(False, description="While it runs: run once more afterwards."),
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(operator),  # noqa: B008
) -> JSONResponse:
    """Run the job now (202); 409 while it runs, unless queue=true."""
    service = api.jobs(f"api:{caller.name}")
    job = service.trigger(params.name(name), queue=queue)
    body = {"job": overview_json(service.view(job.name)), "queued": job.claimed_by is not None}
    return JSONResponse(body, status_code=202)


@router.post("/{name}/stop", status_code=202)
def stop_job(
    name: str,
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(operator),  # noqa: B008
) -> JSONResponse:
    """Ask the runner holding the job's run to kill it (202); 409 when it is not running."""
    run = api.runs().stop_job(params.name(name), f"api:{caller.name}")
    return JSONResponse({"run": run_json(run), "stop_requested": True}, status_code=202)


@router.post("/{name}/enable")
def enable_job(
    name: str,
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(operator),  # noqa: B008
) -> dict[str, Any]:
    """Let the runner start the job again on its schedule."""
    service = api.jobs(f"api:{caller.name}")
    service.set_disabled(params.name(name), False)
    return overview_json(service.view(name))


@router.post("/{name}/disable")
def disable_job(
    name: str,
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(operator),  # noqa: B008
) -> dict[str, Any]:
    """Keep the runner from starting the job (a run in progress finishes)."""
    service = api.jobs(f"api:{caller.name}")
    service.set_disabled(params.name(name), True)
    return overview_json(service.view(name))
