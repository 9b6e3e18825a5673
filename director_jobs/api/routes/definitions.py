"""/api/v1/jobs/{name}: create, replace and delete job definitions (admin), as `jobs add`
and `jobs delete` do, with the same validation and the same messages."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException

from director_jobs.api.auth import admin_caller
from director_jobs.api.context import ApiContext, context
from director_jobs.api.routes import params
from director_jobs.api.threads import in_thread
from director_jobs.errors import InvalidInput, NotFound, UnknownJobType
from director_jobs.model import DEFAULT_RETRY_DELAY, DEFAULT_TIMEOUT, JobSpec
from director_jobs.services.jobs import JobService
from director_jobs.services.shapes import overview_json
from director_jobs.services.tokens import Caller
from director_jobs.validation import parse_duration, refuse_too_deep

router = APIRouter(prefix="/jobs", tags=["jobs"])

_DURATION_HINT = "expected a duration such as 90, 90s, 15m, 2h or 1d"


def _duration_shape(value: object) -> str | int | float:
    """Let through a duration's text ('15m') or seconds (900); parse_duration checks it."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError("duration_type", _DURATION_HINT)
    return value


# A union of strict types would name the failing member in the error's field
# ("interval.str"); one validator keeps the field the name the client sent.
Duration = Annotated[
    str | int | float,
    PlainValidator(_duration_shape),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}], "examples": ["15m"]}),
]


class Definition(BaseModel):
    """A job definition as a request body: what `director jobs add` accepts, same defaults."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: str
    parameters: dict[str, Any] = {}
    interval: Duration | None = None
    cron: str | None = None
    timezone: str | None = None
    timeperiod: str | None = None
    timeout: Duration = DEFAULT_TIMEOUT
    retries: int = 0
    retry_delay: Duration = DEFAULT_RETRY_DELAY
    memory_limit: float | None = None  # MiB; 0 means no limit, as for --memory-limit 0
    description: str = ""
    tags: list[str] = []
    confirm: bool = False
    disabled: bool = False
    requires_command: list[str] = []  # a program and its arguments that must exit 0
    requires_path: str | None = None  # an absolute path that must exist


_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": Definition.model_json_schema()}},
    }
}


def _is_json(content_type: str | None) -> bool:
    """True for application/json (and …+json), or no content type at all, as FastAPI reads."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def definition(
    request: Request,
    _: Caller = Depends(admin_caller),  # noqa: B008
) -> Definition:
    """The body as a Definition, read after the token check: no token is 401 whatever it holds."""
    content_type = request.headers.get("content-type")
    if not _is_json(content_type):
        raise HTTPException(415, f"content-type: expected application/json, not {content_type!r}")
    try:
        return Definition.model_validate_json(await request.body())
    except ValidationError as error:
        problems = error.errors(include_url=False)
        raise RequestValidationError(
            [{**problem, "loc": ("body", *problem["loc"])} for problem in problems]
        ) from None


def spec_of(name: str, body: Definition) -> JobSpec:
    """The JobSpec a body states, durations parsed as `jobs add` parses its options."""
    refuse_too_deep(body.parameters, "parameters")
    interval = None if body.interval is None else parse_duration(body.interval, "interval")
    return JobSpec(
        name=name,
        type=body.type,
        parameters=body.parameters,
        interval=interval,
        cron=body.cron,
        timezone=body.timezone,
        timeperiod=body.timeperiod,
        disabled=body.disabled,
        timeout=parse_duration(body.timeout, "timeout"),
        retries=body.retries,
        retry_delay=parse_duration(body.retry_delay, "retry_delay", allow_zero=True),
        tags=tuple(body.tags),
        description=body.description,
        confirm=body.confirm,
        memory_limit=_memory_limit(body.memory_limit),
        requires_command=tuple(body.requires_command),
        requires_path=body.requires_path,
    )


def _memory_limit(limit: float | None) -> float | None:
    """MiB above zero, or None; 0 removes the limit (as `--memory-limit 0` does)."""
    if limit is not None and limit < 0:
        raise InvalidInput("memory_limit", limit, "expected MiB > 0 (0 removes the limit)")
    return limit or None


def _fields_of(spec: JobSpec) -> dict[str, Any]:
    """Every field of `spec` but its name: a whole definition as JobService.update changes."""
    return {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "name"}


@contextmanager
def _unknown_type_is_a_bad_value(type_name: str) -> Iterator[None]:
    """Report an unknown job type as a bad `type` (422, not 404), in the words of `jobs add`."""
    try:
        yield
    except UnknownJobType as error:
        refused = InvalidInput("type", type_name, "no job type of that name")
        refused.args = (str(error),)  # "type: unknown job type 'x'; known types: …"
        raise refused from None


def _exists(service: JobService, name: str) -> bool:
    """True when a job `name` is defined."""
    try:
        service.get(name)
    except NotFound:
        return False
    return True


@router.post("/{name}", status_code=201, openapi_extra=_BODY)
async def create_job(
    name: str,
    body: Definition = Depends(definition),  # noqa: B008
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(admin_caller),  # noqa: B008
) -> JSONResponse:
    """Define a new job (201, the job as GET /jobs shows it); 409 when the name is taken."""

    def work() -> dict[str, Any]:
        service = api.jobs(f"api:{caller.name}")
        spec = spec_of(params.name(name), body)
        with _unknown_type_is_a_bad_value(spec.type):
            job = service.add(spec)
        return overview_json(service.view(job.name))

    return JSONResponse(await in_thread(work), status_code=201)


@router.put(
    "/{name}",
    openapi_extra=_BODY,
    responses={201: {"description": "There was no job of that name: created."}},
)
async def replace_job(
    name: str,
    body: Definition = Depends(definition),  # noqa: B008
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(admin_caller),  # noqa: B008
) -> JSONResponse:
    """Replace the whole definition (200; omitted fields take their defaults) or create it (201)."""

    def work() -> tuple[dict[str, Any], int]:
        service = api.jobs(f"api:{caller.name}")
        spec = spec_of(params.name(name), body)
        with _unknown_type_is_a_bad_value(spec.type):
            if _exists(service, spec.name):
                job, status = service.update(spec.name, **_fields_of(spec)), 200
            else:
                job, status = service.add(spec), 201
        return overview_json(service.view(job.name)), status

    answer, status = await in_thread(work)
    return JSONResponse(answer, status_code=status)


@router.delete("/{name}", status_code=204, response_class=Response)
async def delete_job(
    name: str,
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(admin_caller),  # noqa: B008
) -> Response:
    """Delete a job (204; its run history stays); 409 while it runs."""
    await in_thread(lambda: api.jobs(f"api:{caller.name}").delete(params.name(name)))
    return Response(status_code=204)
