"""Receivers on 127.0.0.1 for notification tests: an HTTPS webhook endpoint and an SMTP server."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conftest import missing


def self_signed(folder: Path, name: str = "receiver") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (IP SAN) made with openssl, and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        missing("openssl", "install: apt-get install openssl")
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return cert, key


@dataclass
class Received:
    """One request the webhook receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTPS server that records POSTs and answers with the statuses it is given in turn.

    `statuses` are used one per request (the last one repeats); while `gate` is clear,
    requests wait for it (a receiver that hangs), so a test can hold a delivery open.
    """

    cert: Path
    key: Path
    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gate.set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    position = len(receiver.received) - 1
                    status = receiver.statuses[min(position, len(receiver.statuses) - 1)]
                receiver.arrived.set()
                receiver.gate.wait(120)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """https://127.0.0.1:PORT/hook/SECRET-PATH (the path stands for a chat hook's secret)."""
        return f"https://127.0.0.1:{self.server.server_address[1]}/hook/path-secret-4711"

    def bodies(self) -> list[Any]:
        """Every JSON body so far."""
        with self._lock:
            return [request.json for request in self.received]


@contextmanager
def webhook_receiver(folder: Path, statuses: list[int] | None = None) -> Iterator[WebhookReceiver]:
    """A running HTTPS receiver with a certificate for 127.0.0.1 made in `folder`."""
    cert, key = self_signed(folder, "webhook")
    receiver = WebhookReceiver(cert, key, statuses or [200])
    receiver._thread.start()
    try:
        yield receiver
    finally:
        receiver.gate.set()
        receiver.server.shutdown()
        receiver.server.server_close()


@dataclass
class SmtpReceiver:
    """An SMTP server (aiosmtpd) on 127.0.0.1 that offers STARTTLS and AUTH after it."""

    port: int
    user: str
    password: str
    messages: list[bytes] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def smtp_receiver(folder: Path, port: int, user: str, password: str) -> Iterator[SmtpReceiver]:
    """A running SMTP server requiring STARTTLS before anything, with one user."""
    try:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword
    except ImportError:
        missing("aiosmtpd", "install the test extras: pip install -e '.[test]'")
    cert, key = self_signed(folder, "smtp")
    receiver = SmtpReceiver(port, user, password)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            receiver.messages.append(envelope.content)
            receiver.arrived.set()
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if isinstance(data, LoginPassword):
            receiver.logins.append(data.login.decode())
            if data.login.decode() == user and data.password.decode() == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
        # The controller's own readiness probe connects without TLS; it must be let in.
        ready_timeout=60,
    )
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()


def smtp_ca(folder: Path) -> Path:
    """The certificate smtp_receiver made in `folder` (a test's trust anchor for it)."""
    return folder / "smtp.pem"
