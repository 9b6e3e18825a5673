"""Bearer tokens on every endpoint but health: who calls, and whether the role allows it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from director_jobs.api.context import ApiContext, context
from director_jobs.api.errors import Throttled
from director_jobs.errors import Unauthorized
from director_jobs.services.tokens import Caller

bearer = HTTPBearer(auto_error=False, description="A token from `director tokens add`.")


def client_of(request: Request) -> str:
    """The peer address a request came from (what the throttle counts by)."""
    return request.client.host if request.client else "unknown"


def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None, api: ApiContext
) -> Caller:
    """The caller of this request; Unauthorized (or Throttled) otherwise."""
    client = client_of(request)
    wait = api.throttle.retry_after(client)
    if wait is not None:
        raise Throttled(wait)
    try:
        return api.tokens().authenticate(credentials.credentials if credentials else None)
    except Unauthorized:
        if credentials is not None:  # a missing header is a mistake, not a guess
            api.throttle.failed(client)
        raise


def require(role: str) -> Callable[..., Caller]:
    """A dependency that authenticates the request and checks that its role is `role`+."""

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
        api: ApiContext = Depends(context),  # noqa: B008
    ) -> Caller:
        caller = authenticate(request, credentials, api)
        caller.require(role)
        return caller

    dependency.__name__ = f"require_{role}"
    return dependency


viewer = require("viewer")
operator = require("operator")
admin = require("admin")
