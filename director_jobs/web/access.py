"""Who opens a page: a session cookie, a bearer token, or a trusted proxy's user header.

Tokens and roles are the API's. A page accepts `Authorization: Bearer` (scripts, tests);
a browser logs in once with a token and then carries a session cookie. Behind a reverse
proxy that authenticates, `--trusted-proxy-header X-Remote-User` takes the user from
that header and the role from `[web.users]` of the config file; the header is then
trusted blindly, so the server must be reachable through the proxy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from director_jobs.api.context import ApiContext
from director_jobs.errors import Forbidden, Unauthorized
from director_jobs.services.sessions import SessionService, same_csrf
from director_jobs.services.tokens import Caller, check_shape
from director_jobs.settings import ROLES

COOKIE = "director_session"


@dataclass(frozen=True)
class WebOptions:
    """How `director serve` was told to let people in."""

    trusted_proxy_header: str | None = None  # e.g. X-Remote-User; None: not trusted
    users: Mapping[str, str] = field(default_factory=dict)  # proxy user -> role
    secure_cookies: bool = False  # served over TLS: the cookie is sent over TLS only


@dataclass(frozen=True)
class PageUser:
    """Who a page is for, and the CSRF token its forms carry (None: a bearer token's
    request, which a browser cannot be tricked into sending)."""

    caller: Caller
    csrf: str | None
    new_cookie: str | None = None  # a session just made for a proxy user: set it

    def may(self, role: str) -> bool:
        """Whether this user's role is `role` or above (what buttons a page shows)."""
        return ROLES.index(self.caller.role) >= ROLES.index(role)

    def check_csrf(self, presented: str | None) -> None:
        """Forbidden unless a cookie-borne request sent its session's CSRF token."""
        if self.csrf is not None and not same_csrf(self.csrf, presented):
            raise Forbidden("csrf: the form is out of date or was not sent by this page; reload it")


class LoginNeeded(Unauthorized):
    """No session, token or proxy user: a browser goes to /login, a script gets 401."""


def identify(
    api: ApiContext,
    options: WebOptions,
    headers: Mapping[str, str],
    cookie: str | None,
    client: str,
) -> PageUser:
    """The page's user (blocking: reads tokens and sessions). Unauthorized for a bad token,
    Forbidden for a proxy user without a role, LoginNeeded when nothing identifies one."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized("authorization: expected 'Bearer TOKEN'")
        try:
            return PageUser(api.tokens().authenticate(check_shape(secret.strip())), None)
        except Unauthorized:
            api.throttle.failed(client)
            raise
    sessions = SessionService(api.database, api.clock)
    header = options.trusted_proxy_header
    if header is not None and headers.get(header.lower()):
        return _proxy_user(sessions, options, headers[header.lower()].strip(), cookie)
    session = sessions.resume(cookie)
    if session is None:
        raise LoginNeeded("no session: log in with a token")
    return PageUser(session.caller, session.csrf)


def _proxy_user(
    sessions: SessionService, options: WebOptions, user: str, cookie: str | None
) -> PageUser:
    """The proxy's user with the role the config gives them, in a session of their own
    (it holds their CSRF token)."""
    role = options.users.get(user)
    if role is None:
        raise Forbidden(f"user: {user!r} has no role in [web.users] of the config file")
    session = sessions.resume(cookie)
    if session is not None and session.caller == Caller(user, role):
        return PageUser(session.caller, session.csrf)
    new_cookie, session = sessions.for_proxy_user(Caller(user, role))
    return PageUser(session.caller, session.csrf, new_cookie)
