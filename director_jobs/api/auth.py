"""Bearer tokens on every endpoint but health: who calls, and whether the role allows it.

A role dependency checks what needs no database (throttle, a token present and well
formed) at once, in the event loop. The token's lookup runs in the request's thread
with the endpoint's own work (`Access.run`): one hand-over per request, not two.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from director_jobs.api.context import ApiContext, context
from director_jobs.api.errors import Throttled
from director_jobs.api.threads import in_thread
from director_jobs.errors import Unauthorized
from director_jobs.services.tokens import Caller, check_shape

T = TypeVar("T")

bearer = HTTPBearer(auto_error=False, description="A token from `director tokens add`.")


@dataclass(frozen=True)
class Access:
    """A request's well-formed token and the role its endpoint needs, not yet looked up."""

    api: ApiContext
    client: str  # the peer address, what the throttle counts by
    secret: str
    role: str

    def caller(self) -> Caller:
        """The token's caller if its role suffices (blocking: reads the token's row)."""
        try:
            caller = self.api.tokens().authenticate(self.secret)
        except Unauthorized:
            self.api.throttle.failed(self.client)
            raise
        caller.require(self.role)
        return caller

    async def run(self, work: Callable[[Caller], T]) -> T:
        """Authenticate, then `work(caller)`, both in one request thread."""
        return await in_thread(lambda: work(self.caller()))


def client_of(request: Request) -> str:
    """The peer address a request came from."""
    return request.client.host if request.client else "unknown"


def access_of(
    request: Request, credentials: HTTPAuthorizationCredentials | None, api: ApiContext, role: str
) -> Access:
    """The request's Access; Throttled, or Unauthorized when no usable token was sent."""
    client = client_of(request)
    wait = api.throttle.retry_after(client)
    if wait is not None:
        raise Throttled(wait)
    secret = credentials.credentials if credentials else None
    try:
        return Access(api, client, check_shape(secret), role)
    except Unauthorized:
        if credentials is not None:  # a missing header is a mistake, not a guess
            api.throttle.failed(client)
        raise


def require(role: str) -> Callable[..., Awaitable[Access]]:
    """A dependency giving the request's Access for an endpoint that needs `role`+."""

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
        api: ApiContext = Depends(context),  # noqa: B008
    ) -> Access:
        return access_of(request, credentials, api, role)

    dependency.__name__ = f"require_{role}"
    return dependency


def authenticated(role: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency giving the caller itself, for endpoints that must know who calls before
    they read their body (a hand-over more than `require`)."""
    access = require(role)

    async def dependency(found: Access = Depends(access)) -> Caller:  # noqa: B008
        return await in_thread(found.caller)

    dependency.__name__ = f"authenticated_{role}"
    return dependency


viewer = require("viewer")
operator = require("operator")
admin = require("admin")
admin_caller = authenticated("admin")
