"""What every page handler shares: who asks, one thread hand-over, HTML errors, headers.

A handler gives `show` (GET) or `act` (POST) a function of the page's user that does the
reads or the change and returns the response; it runs in a request thread, with the
session or token check, in one hand-over (as the API's handlers do).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from director_jobs.api.context import ApiContext
from director_jobs.api.errors import Throttled, classify
from director_jobs.api.threads import in_thread
from director_jobs.errors import DirectorJobsError, InvalidInput, Unauthorized
from director_jobs.web.access import COOKIE, LoginNeeded, PageUser, WebOptions, identify
from director_jobs.web.templates import render

log = logging.getLogger("director_jobs.web")

# No inline scripts or styles, no other origin, no framing: an injected tag does nothing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages show live state and a CSRF token
}


@dataclass(frozen=True)
class Page:
    """One request as a handler's work sees it: the server's context, the user, the URL
    prefix (a reverse proxy's --root-path), and the form of a POST."""

    api: ApiContext
    user: PageUser
    base: str
    form: dict[str, str]

    def html(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """The template rendered for this user."""
        return html(self, template, status, **values)

    def redirect(self, path: str) -> RedirectResponse:
        """See Other: after a POST, the browser loads `path` (under the prefix) with GET."""
        return RedirectResponse(self.base + path, status_code=303)

    @property
    def actor(self) -> str:
        """How the activity log names this user's changes."""
        return f"web:{self.user.caller.name}"


def html(
    page: Page | None, template: str, status: int, *, base: str = "", **values: Any
) -> HTMLResponse:
    """A page rendered with what every template uses (user, prefix, CSRF token); without
    a Page (login, errors) for nobody, under the prefix `base`."""
    api = page.api if page else None
    body = render(
        template,
        api.settings.timezone if api else "UTC",
        api.clock.now() if api else None,
        user=page.user if page else None,
        base=page.base if page else base,
        csrf=page.user.csrf if page and page.user.csrf else "",
        **values,
    )
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def context_of(request: Request) -> tuple[ApiContext, WebOptions]:
    """The server's context and its web options."""
    api = request.app.state.context
    options = request.app.state.web_options
    assert isinstance(api, ApiContext) and isinstance(options, WebOptions)
    return api, options


def client_of(request: Request) -> str:
    """The peer address (what the failure throttle counts by)."""
    return request.client.host if request.client else "unknown"


async def show(request: Request, role: str, work: Callable[[Page], Response]) -> Response:
    """Answer a GET: `work` for a user with `role` or above, or the error as a page."""
    return await _answer(request, role, work, form={}, check_csrf=False)


async def act(request: Request, role: str, work: Callable[[Page], Response]) -> Response:
    """Answer a POST of a form (or of the page's script): CSRF checked, then `work`."""
    try:
        form = parse_form(await request.body())
    except InvalidInput as error:
        return error_page(request, error)
    return await _answer(request, role, work, form=form, check_csrf=True)


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body; the last value of a repeated field."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("body", None, "the form is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True))


async def _answer(
    request: Request,
    role: str,
    work: Callable[[Page], Response],
    *,
    form: dict[str, str],
    check_csrf: bool,
) -> Response:
    api, options = context_of(request)
    client = client_of(request)
    wait = api.throttle.retry_after(client)
    if wait is not None:
        return error_page(request, Throttled(wait))
    base = request.scope.get("root_path", "")
    headers = dict(request.headers)
    cookie = request.cookies.get(COOKIE)

    def run() -> Response:
        user = identify(api, options, headers, cookie, client)
        user.caller.require(role)
        if check_csrf:
            user.check_csrf(form.get("csrf") or headers.get("x-csrf-token"))
        response = work(Page(api, user, base, form))
        if user.new_cookie is not None:
            set_session_cookie(response, user.new_cookie, options, base)
        return response

    try:
        return await in_thread(run)
    except LoginNeeded:
        if wants_html(request):
            path = request.url.path.removeprefix(base) or "/"  # uvicorn puts the prefix in
            target = quote(path + (f"?{request.url.query}" if request.url.query else ""))
            return RedirectResponse(f"{base}/login?next={target}", status_code=303)
        return error_page(request, Unauthorized("no session or token: log in or send a token"))
    except DirectorJobsError as error:
        return error_page(request, error)


def wants_html(request: Request) -> bool:
    """A browser (it asks for HTML) rather than a script."""
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, error: DirectorJobsError) -> Response:
    """The error as a page for a browser, as the API's JSON shape for a script."""
    status, code = classify(error)
    message = str(error) if status != 500 else "internal error; see the server's log"
    if status == 500:
        log.error("%s %s failed: %s", request.method, request.url.path, error)
    headers = dict(SECURITY_HEADERS)
    if isinstance(error, Throttled):
        headers["Retry-After"] = str(error.retry_after)
    if not wants_html(request):
        field = error.field if isinstance(error, InvalidInput) else None
        body = {"error": {"code": code, "message": message, "field": field}}
        return JSONResponse(body, status_code=status, headers=headers)
    base = request.scope.get("root_path", "")
    response = html(
        None, "error.html", status, base=base, number=status, code=code, message=message
    )
    response.headers.update(headers)
    return response


def set_session_cookie(response: Response, cookie: str, options: WebOptions, base: str) -> None:
    """The session cookie: not readable by scripts, never sent cross-site, TLS-only over TLS."""
    response.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        secure=options.secure_cookies,
        samesite="strict",
        path=base or "/",
    )
