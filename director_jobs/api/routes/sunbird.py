"""The Sunbird background-task API (seed 004), for tools written against that design.

Every answer, errors included, comes in Sunbird's envelope: id, ver, ts, params (msgid,
err, status, errmsg), responseCode and result. As that design asks, both endpoints are
for admins only and answer 401 to anyone else.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from director_jobs.api.auth import access_of, bearer
from director_jobs.api.context import ApiContext, context
from director_jobs.api.errors import Throttled
from director_jobs.api.threads import in_thread
from director_jobs.errors import (
    Forbidden,
    InvalidInput,
    JobAlreadyRunning,
    NotFound,
    TriggerPending,
    Unauthorized,
)
from director_jobs.validation import validate_name, zone

router = APIRouter(prefix="/backgroundtasks", tags=["sunbird"])

_RESPONSE_CODES = {
    200: "OK",
    400: "CLIENT_ERROR",
    401: "UNAUTHORIZED",
    404: "RESOURCE_NOT_FOUND",
    429: "CLIENT_ERROR",
}


def sunbird_time(at: datetime, timezone: str) -> str:
    """Sunbird's `ts`: local time with milliseconds after a colon, e.g. 14:45:34:869+0530."""
    local = at.astimezone(zone(timezone))
    return f"{local:%Y-%m-%d %H:%M:%S}:{local.microsecond // 1000:03d}{local:%z}"


def _answer(
    api: ApiContext,
    api_id: str,
    status: int,
    result: dict[str, Any],
    err: str | None = None,
    errmsg: str | None = None,
) -> JSONResponse:
    body = {
        "id": api_id,
        "ver": "v1",
        "ts": sunbird_time(api.clock.now(), api.settings.timezone),
        "params": {
            "resmsgid": None,
            "msgid": str(uuid.uuid4()),
            "err": err,
            "status": "success" if err is None else "failure",
            "errmsg": errmsg,
        },
        "responseCode": _RESPONSE_CODES[status],
        "result": result,
    }
    return JSONResponse(body, status_code=status)


def _admin_refusal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    api: ApiContext,
    api_id: str,
) -> tuple[JSONResponse | None, str]:
    """(None, the admin's actor name) for an admin; the 401 (or 429) answer for anyone else."""
    try:
        caller = access_of(request, credentials, api, "admin").caller()
    except Throttled as exc:
        return _answer(api, api_id, 429, {}, "TOO_MANY_REQUESTS", str(exc)), ""
    except (Unauthorized, Forbidden) as exc:
        return _answer(api, api_id, 401, {}, "UNAUTHORIZED", str(exc)), ""
    return None, f"api:{caller.name}"


@router.get("")
async def list_tasks(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    api: ApiContext = Depends(context),  # noqa: B008
) -> JSONResponse:
    """Every job as a task: its first tag as the group (or "default"), name, description."""
    return await in_thread(lambda: _list_tasks(request, credentials, api))


def _list_tasks(
    request: Request, credentials: HTTPAuthorizationCredentials | None, api: ApiContext
) -> JSONResponse:
    """The task list in its envelope, or the refusal (in a request thread)."""
    api_id = "api.backgroundtasks.read"
    refusal, _ = _admin_refusal(request, credentials, api, api_id)
    if refusal is not None:
        return refusal
    tasks = [
        {
            "taskGroup": job.spec.tags[0] if job.spec.tags else "default",
            "taskName": job.name,
            "description": job.spec.description,
        }
        for job in api.database.jobs.all()
    ]
    return _answer(api, api_id, 200, {"response": tasks})


@router.post("/trigger/{task_name}")
async def trigger_task(
    task_name: str,
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    api: ApiContext = Depends(context),  # noqa: B008
) -> JSONResponse:
    """Run the job now; 400 JOB_ALREADY_RUNNING while it runs, 404 when there is none."""
    return await in_thread(lambda: _trigger_task(task_name, request, credentials, api))


def _trigger_task(
    task_name: str,
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    api: ApiContext,
) -> JSONResponse:
    """The trigger's answer in its envelope, or the refusal (in a request thread)."""
    api_id = "api.backgroundtasks.trigger"
    refusal, actor = _admin_refusal(request, credentials, api, api_id)
    if refusal is not None:
        return refusal
    try:
        api.jobs(actor).trigger(validate_name(task_name, "taskName"))
    except JobAlreadyRunning:
        message = "Job currently in running state, please try after some time"
        return _answer(api, api_id, 400, {}, "JOB_ALREADY_RUNNING", message)
    except TriggerPending as exc:  # an API trigger with parameters waits to start
        return _answer(api, api_id, 400, {}, "JOB_ALREADY_QUEUED", str(exc))
    except NotFound:
        message = f"taskName: no background task named {task_name!r}"
        return _answer(api, api_id, 404, {}, "RESOURCE_NOT_FOUND", message)
    except InvalidInput as exc:
        code = "JOB_DISABLED" if exc.field == "name" else "INVALID_TASK_NAME"
        return _answer(api, api_id, 400, {}, code, str(exc))
    return _answer(api, api_id, 200, {"response": "SUCCESS"})
