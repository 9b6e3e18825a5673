"""One JSON shape for every error: {"error": {"code", "message", "field"}} with its status."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from director_jobs.errors import (
    AlreadyExists,
    Busy,
    DatabaseUnavailable,
    DirectorJobsError,
    Forbidden,
    InvalidInput,
    JobAlreadyRunning,
    NotFound,
    NotRunning,
    TriggerPending,
    Unauthorized,
)
from director_jobs.secrets import MASK, is_secret_key

log = logging.getLogger("director_jobs.api")


class Throttled(Unauthorized):
    """Too many bad tokens from this client lately: answered 429 with Retry-After."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            f"too many failed authentications from this client; retry in {self.retry_after} s"
        )


# What a message's "field: …" prefix may be: a name or a dotted path.
_FIELD_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")

# Offending values are quoted in messages up to this many characters.
_QUOTE_LIMIT = 80

# Our error classes, most specific first: (class, HTTP status, code).
_STATUS = [
    (InvalidInput, 422, "INVALID_INPUT"),
    (NotFound, 404, "NOT_FOUND"),
    (JobAlreadyRunning, 409, "JOB_ALREADY_RUNNING"),
    (AlreadyExists, 409, "ALREADY_EXISTS"),
    (NotRunning, 409, "NOT_RUNNING"),
    (TriggerPending, 409, "TRIGGER_PENDING"),
    (Throttled, 429, "TOO_MANY_REQUESTS"),
    (Unauthorized, 401, "UNAUTHORIZED"),
    (Forbidden, 403, "FORBIDDEN"),
    (DatabaseUnavailable, 503, "DATABASE_UNAVAILABLE"),
    (Busy, 503, "BUSY"),
]
_HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The error body every endpoint returns."""
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


def classify(error: DirectorJobsError) -> tuple[int, str]:
    """The HTTP status and error code of one of our errors."""
    for kind, status, code in _STATUS:
        if isinstance(error, kind):
            return status, code
    return 500, "INTERNAL_ERROR"


def _field_of(error: DirectorJobsError) -> str | None:
    """The field an error names: InvalidInput's own, else its message's prefix.

    Our messages start with what they are about ("job: no job named 'x'" -> job).
    """
    if isinstance(error, InvalidInput):
        return error.field
    prefix, colon, _ = str(error).partition(": ")
    return prefix if colon and _FIELD_PREFIX.fullmatch(prefix) else None


def quoted(value: Any, field: str) -> str:
    """`value` as a message quotes it: secrets masked, long text cut."""
    if is_secret_key(field.rsplit(".", 1)[-1]):
        return repr(MASK)
    text = repr(value)
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1] + "…"


def validation_message(error: RequestValidationError) -> tuple[str, str]:
    """(field, one-line message) for the first problem pydantic found in a request."""
    problem = error.errors()[0]
    where = [str(part) for part in problem.get("loc", ())]
    if problem.get("type") == "json_invalid":
        return "body", "body: not valid JSON: " + str(problem.get("ctx", {}).get("error", ""))
    if where[:1] == ["body"] and len(where) == 1:
        field = "body"
    else:
        field = ".".join(where[1:]) or "request"
    if problem.get("type") == "missing":
        return field, f"{field}: required"
    if problem.get("type") == "extra_forbidden":
        return field, f"{field}: unknown field"
    value = quoted(problem.get("input"), field)
    return field, f"{field}: invalid value {value}: {problem.get('msg', 'invalid')}"


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the error shape."""

    @app.exception_handler(DirectorJobsError)
    async def ours(request: Request, error: DirectorJobsError) -> JSONResponse:
        status, code = classify(error)
        if status == 500:
            log.error("%s %s failed: %s", request.method, request.url.path, error)
            return error_response(500, code, "internal error; see the server's log")
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(error, Throttled):
            headers = {"Retry-After": str(error.retry_after)}
        return error_response(status, code, str(error), _field_of(error), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        field, message = validation_message(error)
        return error_response(422, "INVALID_INPUT", message, field)

    @app.exception_handler(HTTPException)
    async def http(request: Request, error: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "HTTP_ERROR")
        message, field = str(error.detail or code.lower().replace("_", " ")), None
        if error.status_code == 404:
            message, field = f"path: no endpoint at {request.url.path!r}", "path"
        elif error.status_code == 405:
            message = f"method: {request.method} is not allowed at {request.url.path!r}"
            field = "method"
        return error_response(error.status_code, code, message, field, error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return error_response(500, "INTERNAL_ERROR", "internal error; see the server's log")
