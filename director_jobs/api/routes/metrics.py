"""/metrics: the Prometheus text format, at the root where Prometheus looks for it.

No token needed, so that a plain scrape config works; a token that is sent must be
valid (401 otherwise, as everywhere): a revoked token never reads anything.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from director_jobs.api.auth import access_of, bearer
from director_jobs.api.context import ApiContext, context
from director_jobs.api.threads import in_thread
from director_jobs.services.metrics import CONTENT_TYPE, MetricsCollector
from director_jobs.services.tokens import Caller

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}},
)
async def metrics(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    api: ApiContext = Depends(context),  # noqa: B008
) -> Response:
    """Runs by job and status, durations, last successes, running, overdue and queued jobs,
    runner heartbeats: read from the database now."""
    collector = MetricsCollector(api.database, api.clock, api.settings.timezone)
    if credentials is None:
        body = await in_thread(collector.exposition)
    else:

        def work(_caller: Caller) -> bytes:
            return collector.exposition()

        body = await access_of(request, credentials, api, "viewer").run(work)
    return Response(body, media_type=CONTENT_TYPE)
