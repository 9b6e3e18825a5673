"""/login and /logout: a session from an API token, and its end."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from director_jobs.api.errors import Throttled
from director_jobs.api.threads import in_thread
from director_jobs.errors import InvalidInput, Unauthorized
from director_jobs.services.sessions import SessionService, WebSession
from director_jobs.web.access import COOKIE
from director_jobs.web.pages import (
    Page,
    act,
    client_of,
    context_of,
    error_page,
    html,
    parse_form,
    set_session_cookie,
)

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this server only (never `//other.host`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", include_in_schema=False)
async def login_page(request: Request) -> Response:
    """The login form."""
    base = request.scope.get("root_path", "")
    target = safe_next(request.query_params.get("next"))
    if target.startswith(base + "/") and base:
        target = target[len(base) :]
    return html(None, "login.html", 200, base=base, next=target, error=None)


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    """Check the token; a session cookie and back to where the user wanted to go."""
    api, options = context_of(request)
    client = client_of(request)
    wait = api.throttle.retry_after(client)
    if wait is not None:
        return error_page(request, Throttled(wait))
    try:
        form = parse_form(await request.body())
    except InvalidInput as error:
        return error_page(request, error)
    target = safe_next(form.get("next"))
    base = request.scope.get("root_path", "")
    sessions = SessionService(api.database, api.clock)
    try:
        cookie, _ = await in_thread(_login, sessions, form.get("token", "").strip())
    except Unauthorized as error:
        api.throttle.failed(client)
        message = f"{error}; check the token, or make a new one with `director tokens add`"
        return html(None, "login.html", 401, base=base, next=target, error=message)
    response = RedirectResponse(base + target, status_code=303)
    set_session_cookie(response, cookie, options, base)
    return response


def _login(sessions: SessionService, token: str) -> tuple[str, WebSession]:
    """A new session for the token (blocking)."""
    return sessions.login(token or None)


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    """End the session and forget the cookie."""
    cookie = request.cookies.get(COOKIE)

    def work(page: Page) -> Response:
        SessionService(page.api.database, page.api.clock).logout(cookie)
        response = page.redirect("/login")
        response.delete_cookie(COOKIE, path=page.base or "/")
        return response

    return await act(request, "viewer", work)
