"""/api/v1/activity: the activity log, newest first, a page at a time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from director_jobs.api.auth import viewer
from director_jobs.api.context import ApiContext, context
from director_jobs.api.routes import params
from director_jobs.services.activity import MAX_PAGE, ActivityLog
from director_jobs.services.shapes import activity_json
from director_jobs.services.tokens import Caller

router = APIRouter(prefix="/activity", tags=["activity"])


@router.get("")
def list_activity(
    since: str | None = Query(None, description="ISO 8601 with an offset."),
    limit: int = Query(50, description=f"Entries per page, 1-{MAX_PAGE}."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
    api: ApiContext = Depends(context),  # noqa: B008
    caller: Caller = Depends(viewer),  # noqa: B008
) -> dict[str, Any]:
    """Who changed which definition or token, triggered or stopped what, and the diff."""
    log = ActivityLog(api.database, api.clock, f"api:{caller.name}")
    entries, next_cursor = log.page(params.instant(since, "since"), limit, cursor)
    return {"activity": [activity_json(e) for e in entries], "next_cursor": next_cursor}
