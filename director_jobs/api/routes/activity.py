"""/api/v1/activity: the activity log, newest first, a page at a time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from director_jobs.api.auth import Access, viewer
from director_jobs.api.routes import params
from director_jobs.services.activity import MAX_PAGE, ActivityLog
from director_jobs.services.shapes import activity_json
from director_jobs.services.tokens import Caller

router = APIRouter(prefix="/activity", tags=["activity"])


@router.get("")
async def list_activity(
    since: str | None = Query(None, description="ISO 8601 with an offset."),
    limit: int = Query(50, description=f"Entries per page, 1-{MAX_PAGE}."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
    access: Access = Depends(viewer),  # noqa: B008
) -> JSONResponse:
    """Who changed which definition or token, triggered or stopped what, and the diff."""

    def work(caller: Caller) -> dict[str, Any]:
        log = ActivityLog(access.api.database, access.api.clock, f"api:{caller.name}")
        entries, next_cursor = log.page(params.instant(since, "since"), limit, cursor)
        return {"activity": [activity_json(e) for e in entries], "next_cursor": next_cursor}

    return JSONResponse(await access.run(work))
