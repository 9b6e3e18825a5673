"""/api/v1/jobs: the jobs with their last run, one job, trigger, enable and disable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from director_jobs.api.auth import Access, operator, viewer
from director_jobs.api.routes import params
from director_jobs.services.jobs import JobFilter
from director_jobs.services.shapes import detail_json, overview_json, run_json
from director_jobs.services.tokens import Caller

router = APIRouter(prefix="/jobs", tags=["jobs"])


# Handlers answer with a JSONResponse of plain JSON: it skips FastAPI's generic encoder,
# which took longer than building the list itself for 1,000 jobs (docs/benchmarks.md).


@router.get("")
async def list_jobs(
    tag: str | None = None,
    type: str | None = None,  # the query parameter's public name
    status: str | None = Query(None, description="Status of the last run, e.g. error."),
    disabled: bool | None = None,
    access: Access = Depends(viewer),  # noqa: B008
) -> JSONResponse:
    """Every job with its schedule, next start, last run and whether it runs now."""

    def work(_: Caller) -> dict[str, Any]:
        where = JobFilter(tag=tag, type=type, status=params.run_status(status), disabled=disabled)
        return {"jobs": [overview_json(view) for view in access.api.jobs().overview(where)]}

    return JSONResponse(await access.run(work))


@router.get("/{name}")
async def show_job(name: str, access: Access = Depends(viewer)) -> JSONResponse:  # noqa: B008
    """One job: definition, effective parameters, state and its newest runs."""
    return JSONResponse(
        await access.run(lambda _: detail_json(access.api.jobs().detail(params.name(name))))
    )


class TriggerBody(BaseModel):
    """The optional body of a trigger: parameters for this run only."""

    model_config = ConfigDict(extra="forbid")

    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Merged over the job's for this run; null restores a type default.",
    )


@router.post("/{name}/trigger", status_code=202)
async def trigger_job(
    name: str,
    body: TriggerBody | None = None,
    queue: bool = Query(False, description="While it runs: run once more afterwards."),
    access: Access = Depends(operator),  # noqa: B008
) -> JSONResponse:
    """Queue a run now (202 with the run); 409 while it runs, unless queue=true."""

    def work(caller: Caller) -> dict[str, Any]:
        service = access.api.jobs(f"api:{caller.name}")
        parameters = body.parameters if body is not None else None
        queued = service.trigger(params.name(name), queue=queue, parameters=parameters)
        return {
            "job": overview_json(service.view(queued.job.name)),
            "run": run_json(queued.run),
            "queued": queued.job.claimed_by is not None,  # waits for the current run
            "joined": queued.joined,  # a trigger before this one had queued the same run
        }

    return JSONResponse(await access.run(work), status_code=202)


@router.post("/{name}/stop", status_code=202)
async def stop_job(name: str, access: Access = Depends(operator)) -> JSONResponse:  # noqa: B008
    """Ask the runner holding the job's run to kill it (202); 409 when it is not running."""

    def work(caller: Caller) -> dict[str, Any]:
        run = access.api.runs().stop_job(params.name(name), f"api:{caller.name}")
        return {"run": run_json(run), "stop_requested": True}

    return JSONResponse(await access.run(work), status_code=202)


def _set_disabled(access: Access, name: str, disabled: bool) -> Callable[[Caller], Any]:
    """The work of enable (False) and disable (True): the job's overview afterwards."""

    def work(caller: Caller) -> dict[str, Any]:
        service = access.api.jobs(f"api:{caller.name}")
        service.set_disabled(params.name(name), disabled)
        return overview_json(service.view(name))

    return work


@router.post("/{name}/enable")
async def enable_job(name: str, access: Access = Depends(operator)) -> JSONResponse:  # noqa: B008
    """Let the runner start the job again on its schedule."""
    return JSONResponse(await access.run(_set_disabled(access, name, False)))


@router.post("/{name}/disable")
async def disable_job(name: str, access: Access = Depends(operator)) -> JSONResponse:  # noqa: B008
    """Keep the runner from starting the job (a run in progress finishes)."""
    return JSONResponse(await access.run(_set_disabled(access, name, True)))
