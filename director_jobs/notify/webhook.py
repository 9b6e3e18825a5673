"""Webhooks: POST the event as JSON, signed `X-Director-Jobs-Signature: sha256=<hex>`.

The signature is HMAC-SHA256 of the exact body with the channel's secret, so that the
receiver can check who sent it. TLS is verified (the system's CAs, or `ca_file`);
environment proxies never apply and redirects are not followed. Messages never show the
URL's path: for chat services it is the secret.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request
from typing import Any

from director_jobs import __version__
from director_jobs.notify.attempt import Attempt, verified_tls
from director_jobs.notify.config import WebhookChannel

SIGNATURE_HEADER = "X-Director-Jobs-Signature"
# Worth another try: the receiver timed out, asks us to slow down, or failed itself.
RETRY_STATUSES = frozenset({408, 425, 429})


def signature(secret: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(payload: dict[str, Any], delivery_id: int) -> bytes:
    """The JSON sent: the payload plus the delivery's id (receivers may drop repeats by it)."""
    return json.dumps({**payload, "delivery_id": delivery_id}, separators=(",", ":")).encode()


def send_webhook(channel: WebhookChannel, payload: dict[str, Any], delivery_id: int) -> Attempt:
    """One POST; 2xx is delivered. 408/425/429/5xx answers and failures to connect are
    retried; no answer after the request went out is not (it may have arrived)."""
    body = body_of(payload, delivery_id)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"director-jobs/{__version__}",
        "X-Director-Jobs-Event": str(payload.get("event")),
        "X-Director-Jobs-Delivery": str(delivery_id),
    }
    if channel.secret:
        headers[SIGNATURE_HEADER] = signature(channel.secret, body)
    request = urllib.request.Request(channel.url, data=body, method="POST", headers=headers)
    try:
        with _opener(channel.ca_file).open(request, timeout=channel.timeout) as response:
            response.read(4096)
            return Attempt.ok(response.status)
    except urllib.error.HTTPError as exc:
        code = exc.code
        exc.close()
        text = f"HTTP {code} {exc.reason}"
        if code >= 500 or code in RETRY_STATUSES:
            return Attempt.again(text, code)
        if 300 <= code < 400:
            text += " (redirects are not followed: give the final URL)"
        return Attempt.refused(text, code)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return Attempt.refused(f"TLS: {reason.verify_message or reason}")
        return Attempt.again(str(reason))
    except (OSError, http.client.HTTPException) as exc:
        # The request went out and no answer came (a timeout, a reset): it may have
        # arrived, so it is not sent again (at most once).
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Attempt.refused(f"no answer after sending ({reason}); it may have arrived")


@functools.lru_cache(maxsize=16)
def _opener(ca_file: str | None) -> urllib.request.OpenerDirector:
    """No proxies, no redirects, TLS verified against `ca_file` or the system's CAs."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}),
        _PlainHandler(),
        _TlsHandler(verified_tls(ca_file)),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


# http.client sends the headers and the body in two writes; with Nagle's algorithm the
# body then waits for the receiver's delayed ACK (40 ms on Linux) on every request.
class _NoDelayHTTP(http.client.HTTPConnection):
    """HTTP with TCP_NODELAY."""

    def connect(self) -> None:
        """Connect, then send small writes at once."""
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _NoDelayHTTPS(http.client.HTTPSConnection):
    """HTTPS with TCP_NODELAY."""

    def connect(self) -> None:
        """Connect (TLS handshake included), then send small writes at once."""
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PlainHandler(urllib.request.HTTPHandler):
    """Opens http:// URLs with _NoDelayHTTP."""

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        """One connection per request."""
        return self.do_open(_NoDelayHTTP, req)


class _TlsHandler(urllib.request.HTTPSHandler):
    """Opens https:// URLs with _NoDelayHTTPS and the channel's TLS context."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self._tls = context

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        """One verified connection per request."""
        return self.do_open(_NoDelayHTTPS, req, context=self._tls)
