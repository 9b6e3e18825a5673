"""The API of `director serve`: routers under /api/v1, /metrics, errors, guards."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from director_jobs import __version__
from director_jobs.api import errors, guards
from director_jobs.api.context import ApiContext
from director_jobs.api.routes import (
    activity,
    definitions,
    docs,
    health,
    jobs,
    metrics,
    periods,
    runs,
    sunbird,
)

PREFIX = "/api/v1"


def create_app(context: ApiContext) -> ASGIApp:
    """The whole API over `context`'s database, wrapped in the request guards."""
    return guards.install(build_api(context))


def build_api(context: ApiContext) -> FastAPI:
    """The API's application without the guards (the web page adds its routes to it)."""
    app = FastAPI(
        title="director-jobs",
        version=__version__,
        summary="Icinga-style job runner: jobs, runs, time periods, triggers.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # served by routes/docs.py from the package
        redoc_url=None,
    )
    app.state.context = context
    errors.install(app)
    api = APIRouter(prefix=PREFIX)
    for module in (jobs, definitions, runs, periods, activity, health, sunbird, docs):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(metrics.router)  # at the root, where Prometheus looks by default
    return app
