"""A run's output as Server-Sent Events: its lines as the job writes them, then the end.

Events: `output` (one line; its id is the line's number, so a client that reconnects
with Last-Event-ID continues after it), `gap` (lines the 64 KiB tail dropped before they
could be sent, `{"missed": N}`) and `end` (the run's final status, once; then the stream
closes). A comment every KEEPALIVE_SECONDS keeps proxies from closing a quiet stream.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from director_jobs.api.threads import in_thread
from director_jobs.errors import NotFound
from director_jobs.model import Run
from director_jobs.services.runs import FOLLOW_POLL_SECONDS, LogChunk, RunService

# Quiet streams get a comment this often; proxies commonly close idle ones after 60 s.
KEEPALIVE_SECONDS = 15.0

# Streams one server follows at once; each reads its run four times a second.
MAX_FOLLOWERS = 100


class FollowerSlots:
    """Counts the open streams of one server, so that followers cannot swamp the database.

    Taken in a request thread and given back in the event loop: hence the lock.
    """

    def __init__(self, limit: int = MAX_FOLLOWERS) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Claim a slot; False when all are taken."""
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        """Release a slot when a stream ends."""
        with self._lock:
            self.open -= 1


class FollowResponse(StreamingResponse):
    """The stream of one follower; gives its slot back however the response ends (also
    when the client leaves before the first event)."""

    def __init__(self, content: AsyncIterator[str], slots: FollowerSlots) -> None:
        # Proxies must pass each event on at once instead of buffering the stream.
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(content, media_type="text/event-stream", headers=headers)
        self.slots = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the stream; the slot goes back at its end, whatever ended it."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slots.give_back()


def event(kind: str, data: str, event_id: int | None = None) -> str:
    """One SSE event; `data` must be one line (the job's lines are, after `one_line`)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {data}\n\n"


def one_line(line: str) -> str:
    """A job's line as SSE data: a carriage return would end the field, so it is dropped."""
    return line.replace("\r", "")


def end_data(run: Run) -> str:
    """The `end` event's JSON: how the run ended."""
    body: dict[str, Any] = {
        "id": run.id,
        "job": run.job_name,
        "status": run.status.value,
        "exit_code": run.exit_code,
        "error": run.error,
        "stopped_by": run.stopped_by,
    }
    return json.dumps(body)


def chunk_events(chunk: LogChunk) -> list[str]:
    """The events one read of the run yields: a gap note, then its new lines."""
    events = []
    if chunk.missed:
        events.append(event("gap", json.dumps({"missed": chunk.missed})))
    events += [
        event("output", one_line(line), chunk.first + index)
        for index, line in enumerate(chunk.lines)
    ]
    return events


async def follow(service: RunService, run_id: int, seen: int) -> AsyncIterator[str]:
    """Yield the run's events until it ends (or is deleted)."""
    quiet_since = time.monotonic()
    while True:
        if not await in_thread(service.nothing_new, run_id, seen):
            try:
                chunk = await in_thread(service.log, run_id, seen)
            except NotFound:  # housekeeping removed it meanwhile
                yield event("end", json.dumps({"id": run_id, "status": "deleted"}))
                return
            for text in chunk_events(chunk):
                yield text
                quiet_since = time.monotonic()
            seen = chunk.seen
            if chunk.ended:
                yield event("end", end_data(chunk.run))
                return
        if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(FOLLOW_POLL_SECONDS)
