"""ASGI middleware that runs before any route: body size, tokens in URLs, an access log.

uvicorn's own access log is off (`director serve` turns it off): it would write query
strings, where a careless client may have put a token. This log writes the path only.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("director_jobs.api.access")

# Largest request body accepted: a job definition or trigger parameters fit many times.
MAX_BODY_BYTES = 64 * 1024
# Query parameters that would carry a credential in the URL (logged by proxies, kept in
# browser history): refused, so that nobody gets used to it.
_CREDENTIAL_PARAMETERS = {"token", "access_token", "api_key", "apikey", "key", "auth"}


async def _reply(send: Send, status: int, code: str, message: str, field: str | None) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "field": field}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestGuards:
    """Refuse big or unsized bodies (413, 411) and tokens in the query (400); log requests."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on with a receive that counts the body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status: list[int] = [0]

        async def note_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._guarded(scope, receive, note_status)
        finally:
            access_log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                scope["path"],
                status[0],
                (time.monotonic() - started) * 1000,
            )

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        for name, _ in parse_qsl(query, keep_blank_values=True):
            if name.lower() in _CREDENTIAL_PARAMETERS:
                message = f"{name}: a token in the URL is refused; send 'Authorization: Bearer …'"
                await _reply(send, 400, "TOKEN_IN_QUERY", message, name)
                return
        declared, chunked = _body_headers(scope)
        if chunked and declared is None:
            # Without a length the size is known only after reading; every client that
            # sends JSON (curl -d, httpx, requests) states it, so asking costs nothing.
            message = "body: a Content-Length is required (chunked bodies are refused)"
            await _reply(send, 411, "LENGTH_REQUIRED", message, "body")
            return
        if declared is not None and declared > self.max_body:
            message = f"body: {declared} bytes, the limit is {self.max_body}"
            await _reply(send, 413, "PAYLOAD_TOO_LARGE", message, "body")
            return
        # uvicorn delivers no more than the declared length: nothing to count here.
        await self.app(scope, receive, send)


def _body_headers(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length (None: none) and whether the body comes chunked."""
    length, chunked = None, False
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"content-length" and value.isdigit():
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


def install(app: ASGIApp) -> ASGIApp:
    """`app` wrapped in the guards."""
    return RequestGuards(app)
