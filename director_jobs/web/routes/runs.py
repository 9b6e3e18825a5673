"""/runs/{id}: one run with its output, followed live while it runs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from director_jobs.api import log_stream
from director_jobs.errors import Busy
from director_jobs.model import RunStatus
from director_jobs.services.shapes import masked_parameters
from director_jobs.web.pages import Page, act, show

router = APIRouter(prefix="/runs")

# ANSI escape sequences (colours, cursor moves) that commands print to terminals: the page
# shows the text without them.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")


def plain(text: str) -> str:
    """`text` without terminal escape sequences."""
    return _ANSI.sub("", text)


def run_page(page: Page, run_id: int) -> Response:
    """The run, its output so far and its notifications (blocking)."""
    runs = page.api.runs()
    chunk = runs.log(run_id)
    run = chunk.run
    return page.html(
        "run.html",
        run=run,
        output=plain("\n".join(chunk.lines)),
        missed=chunk.first - 1,
        lines=chunk.seen,
        live=run.status in (RunStatus.PENDING, RunStatus.RUNNING),
        parameters=masked_parameters(run.parameters) if run.parameters else None,
        notifications=runs.notifications(run_id),
        triggered_by=runs.triggered_by(run),
    )


@router.get("/{run_id}", include_in_schema=False)
async def show_run(request: Request, run_id: int) -> Response:
    """A run's page."""
    return await show(request, "viewer", lambda p: run_page(p, run_id))


@router.get("/{run_id}/stream", include_in_schema=False, response_model=None)
async def stream(request: Request, run_id: int, after: int = Query(0, ge=0)) -> Response:
    """The run's new lines as the API's Server-Sent Events (escape sequences removed)."""
    slot: list[bool] = []

    def work(page: Page) -> Response:
        page.api.runs().get(run_id)  # an unknown run: 404 before a stream opens
        if not page.api.followers.take():
            raise Busy(f"follow: {page.api.followers.limit} log streams are open; try again later")
        slot.append(True)
        return Response()  # replaced below, outside the request thread

    answer = await show(request, "viewer", work)
    if not slot:
        return answer  # the login redirect, 401, 404 or 503
    api = request.app.state.context
    return log_stream.FollowResponse(
        _plain_events(log_stream.follow(api.runs(), run_id, after)), api.followers
    )


async def _plain_events(events: AsyncIterator[str]) -> AsyncIterator[str]:
    """The stream with terminal escape sequences taken out of its output lines."""
    async for text in events:
        yield plain(text) if text.startswith("id: ") else text


@router.post("/{run_id}/stop", include_in_schema=False)
async def stop_run(request: Request, run_id: int) -> Response:
    """Ask the runner to stop this run, then show it."""

    def work(page: Page) -> Response:
        page.api.runs().stop(run_id, page.actor)
        return page.redirect(f"/runs/{run_id}")

    return await act(request, "operator", work)
