"""The whole application of `director serve`: the API plus the web page, in the guards."""

from __future__ import annotations

import inspect
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp

from director_jobs.api import guards
from director_jobs.api.app import build_api
from director_jobs.api.context import ApiContext
from director_jobs.errors import NotFound
from director_jobs.web.access import WebOptions
from director_jobs.web.pages import error_page, wants_html
from director_jobs.web.routes import (
    activity,
    dashboard,
    jobs,
    login,
    periods,
    runners,
    runs,
)

STATIC = Path(__file__).parent / "static"


def create_site(context: ApiContext, options: WebOptions | None = None) -> ASGIApp:
    """The API under /api/v1 and the pages at the root, over one context."""
    app = build_api(context)
    app.state.web_options = options or WebOptions()
    for module in (login, dashboard, jobs, runs, periods, activity, runners):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _page_for_unknown_paths(app)
    return guards.install(app)


def _page_for_unknown_paths(app: FastAPI) -> None:
    """A browser asking for a path that is no page gets the error page, not the API's JSON
    (scripts, and every path under /api/, still get the JSON)."""
    api_handler = app.exception_handlers[HTTPException]

    async def not_found(request: Request, error: Exception) -> Response:
        path = request.url.path
        base = request.scope.get("root_path", "")
        a_page = not path.removeprefix(base).startswith("/api/") and wants_html(request)
        if isinstance(error, HTTPException) and error.status_code == 404 and a_page:
            return error_page(request, NotFound(f"path: no page at {path!r}"))
        answer = api_handler(request, error)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(HTTPException, not_found)
