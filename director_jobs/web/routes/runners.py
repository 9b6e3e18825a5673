"""/runners: each runner, its host, its heartbeat's age and the job it runs now."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from director_jobs.web.pages import Page, show

router = APIRouter()


def runners_page(page: Page) -> Response:
    """Live runners first, then the ones that stopped (blocking)."""
    status = page.api.status()
    live = {r.label for r in status.live_runners()}
    running = {row.run.runner: row.run for row in page.api.database.runs.running()}
    runners = sorted(page.api.database.runners.all(), key=lambda r: (r.label not in live, r.label))
    return page.html("runners.html", runners=runners, live=live, running=running)


@router.get("/runners", include_in_schema=False)
async def runners(request: Request) -> Response:
    """The runners."""
    return await show(request, "viewer", runners_page)
