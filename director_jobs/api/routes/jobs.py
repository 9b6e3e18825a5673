"""/api/v1/jobs: the jobs with their last run, one job, trigger, enable and disable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

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


class TriggerBody(BaseModel):
    """The optional body of a trigger: parameters for this run only."""

    model_config = ConfigDict(extra="forbid")

    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Merged over the job's for this run; null restores a type default.",
    )


@router.post("/{name}/trigger", status_code=202)
def trigger_job(
    name: str,
    body: TriggerBody | None = None,
    queue: bool = Query(False, description="While it runs: run once more afterwards."),
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(operator),  # noqa: B008
) -> JSONResponse:
    """Queue a run now (202 with the run); 409 while it runs, unless queue=true."""
    service = api.jobs(f"api:{caller.name}")
    parameters = body.parameters if body is not None else None
    queued = service.trigger(params.name(name), queue=queue, parameters=parameters)
    answer = {
        "job": overview_json(service.view(queued.job.name)),
        "run": run_json(queued.run),
        "queued": queued.job.claimed_by is not None,  # waits for the current run
        "joined": queued.joined,  # a trigger before this one had queued the same run
    }
    return JSONResponse(answer, status_code=202)


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
