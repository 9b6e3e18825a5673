"""The whole application of `director serve`: the API plus the web page, in the guards."""

from __future__ import annotations

from pathlib import Path

from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from director_jobs.api import guards
from director_jobs.api.app import build_api
from director_jobs.api.context import ApiContext
from director_jobs.web.access import WebOptions
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
    return guards.install(app)
