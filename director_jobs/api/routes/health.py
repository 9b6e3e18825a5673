"""/api/v1/health: ok or degraded, for load balancers and checks; no token needed."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from director_jobs.api.context import ApiContext, context
from director_jobs.api.threads import in_thread

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(api: ApiContext = Depends(context)) -> JSONResponse:  # noqa: B008
    """200 with "ok", or 503 with "degraded" and the reasons (no runner, no database)."""
    found = await in_thread(api.status().health)
    body = {
        "status": found.status,
        "reasons": found.reasons,
        "database_reachable": found.database_reachable,
        "runners_alive": len(found.runners),
        "heartbeat_age": None if found.heartbeat_age is None else round(found.heartbeat_age, 1),
    }
    return JSONResponse(body, status_code=200 if found.status == "ok" else 503)
