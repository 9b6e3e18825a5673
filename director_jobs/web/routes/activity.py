"""/activity: who changed, triggered or stopped what, newest first, filterable."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from director_jobs.web.pages import Page, show

router = APIRouter()

PAGE = 100
# Filters look through this many of the newest entries (the log keeps every change).
SCAN = 1000  # the most one read of the log returns


def activity_page(page: Page, kind: str, text: str, cursor: str | None) -> Response:
    """A page of the activity log, narrowed to a kind and a text (blocking)."""
    log = page.api.jobs().activity
    if not kind and not text:
        entries, next_cursor = log.page(None, PAGE, cursor)
    else:
        scanned, _ = log.page(None, SCAN, None)
        needle = text.lower()
        entries = [
            e
            for e in scanned
            if (not kind or e.kind == kind)
            and (not needle or needle in f"{e.name} {e.actor} {e.action}".lower())
        ][:PAGE]
        next_cursor = None
    kinds = ["job", "timeperiod", "token", "import_source", "sync_rule"]
    return page.html(
        "activity.html", entries=entries, next_cursor=next_cursor, kind=kind, text=text, kinds=kinds
    )


@router.get("/activity", include_in_schema=False)
async def activity(request: Request) -> Response:
    """The activity log."""
    q = request.query_params
    kind, text, cursor = q.get("kind", ""), q.get("q", ""), q.get("before")
    return await show(request, "viewer", lambda p: activity_page(p, kind, text, cursor))
