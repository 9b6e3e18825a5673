"""A small client for the Icinga 2 REST API config packages and stages (urllib, no proxies).

TLS is verified against `ca_file` (or the system's CAs); the name checked is
`server_name`, so that https://127.0.0.1:5665 can be verified against a certificate issued
to the node name. Environment proxies never apply, redirects are not followed (they would
carry the Authorization header elsewhere), and the password never appears in a message.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from director_jobs.errors import DirectorJobsError

# 423: "There's already an ongoing package update in progress" (a reload is running);
# 503: the daemon is starting or stopping.
RETRY_STATUSES = frozenset({423, 503})


class ApiError(DirectorJobsError):
    """The API answered with an error (`status`), or could not be reached (status None)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        """True when trying again later may work: unreachable, busy reloading, starting."""
        return self.status is None or self.status in RETRY_STATUSES


@dataclass(frozen=True)
class Package:
    """A config package: its stages and the active one."""

    name: str
    stages: list[str]
    active_stage: str | None


def tls_context(ca_file: str | None, verify: bool) -> ssl.SSLContext:
    """Verify against `ca_file` only (or the system's CAs when None); or not at all."""
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class IcingaApi:
    """Calls https://host:port/v1/… as one ApiUser."""

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        context: ssl.SSLContext,
        *,
        server_name: str | None = None,
        request_timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(url)
        self.base = f"https://{parts.netloc}{parts.path.rstrip('/')}"
        self.request_timeout = request_timeout
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._authorization = f"Basic {token}"
        self._opener = urllib.request.OpenerDirector()
        for handler in (
            urllib.request.ProxyHandler({}),  # never the environment's proxies
            _HTTPSHandler(context, server_name or parts.hostname or ""),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ):
            self._opener.add_handler(handler)

    def call(self, method: str, path: str, body: Any = None, *, raw: bool = False) -> Any:
        """One request; the decoded JSON answer (or text when `raw`); ApiError otherwise."""
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                # The file endpoint answers 400 to application/json (PLATFORM.md §4).
                "Accept": "application/octet-stream" if raw else "application/json",
                "Authorization": self._authorization,
                **({} if body is None else {"Content-Type": "application/json"}),
            },
        )
        try:
            with self._opener.open(request, timeout=self.request_timeout) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            try:
                message = f"{method} {path}: HTTP {exc.code} {_status_text(exc)}"
            finally:
                exc.close()
            raise ApiError(message, status=exc.code) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            # A refused certificate does not go away by waiting: status 0 marks it as final.
            # A reloading daemon may cut the handshake short (SSLEOFError): that passes.
            final = 0 if isinstance(reason, ssl.SSLError) and not _cut_short(reason) else None
            raise ApiError(f"{method} {path}: {reason}", status=final) from None
        if raw:
            return data.decode("utf-8", "replace")
        try:
            return json.loads(data)
        except ValueError:
            raise ApiError(f"{method} {path}: the answer is not JSON", status=0) from None

    def packages(self) -> dict[str, Package]:
        """Every config package by name."""
        answer = self.call("GET", "/v1/config/packages")
        return {
            entry["name"]: Package(
                entry["name"], entry.get("stages", []), entry.get("active-stage")
            )
            for entry in answer.get("results", [])
        }

    def create_package(self, package: str) -> None:
        """Create `package` (POST on an existing one answers 500: check packages() first)."""
        self.call("POST", f"/v1/config/packages/{quote(package, safe='')}")

    def upload_stage(self, package: str, files: dict[str, str]) -> str:
        """Upload a stage (Icinga validates it and, when valid, activates it and reloads)."""
        answer = self.call("POST", f"/v1/config/stages/{quote(package, safe='')}", {"files": files})
        results = answer.get("results") or [{}]
        stage = results[0].get("stage")
        if not stage:
            status = results[0].get("status")
            raise ApiError(f"stage upload: no stage in the answer: {status}", status=0)
        return str(stage)

    def stage_files(self, package: str, stage: str) -> list[str]:
        """Names of the files in a stage (`status` and `startup.log` once validated)."""
        answer = self.call("GET", f"/v1/config/stages/{quote(package, safe='')}/{quote(stage)}")
        return [entry["name"] for entry in answer.get("results", [])]

    def read_file(self, package: str, stage: str, name: str) -> str:
        """One file of a stage, as text."""
        path = f"/v1/config/files/{quote(package, safe='')}/{quote(stage)}/{quote(name)}"
        text: str = self.call("GET", path, raw=True)
        return text

    def delete_stage(self, package: str, stage: str) -> None:
        """Remove an inactive stage."""
        self.call("DELETE", f"/v1/config/stages/{quote(package, safe='')}/{quote(stage)}")


def _cut_short(error: ssl.SSLError) -> bool:
    """True when the peer closed the TLS connection rather than rejecting something."""
    return isinstance(error, ssl.SSLEOFError | ssl.SSLZeroReturnError | ssl.SSLSyscallError)


def _status_text(error: urllib.error.HTTPError) -> str:
    """The API's own explanation (`status` of the JSON error), else the HTTP reason."""
    try:
        body = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        return str(error.reason)
    if isinstance(body, dict):
        results = body.get("results")
        if isinstance(results, list) and results and isinstance(results[0], dict):
            body = results[0]
        return str(body.get("status") or error.reason)
    return str(error.reason)


class _Connection(http.client.HTTPSConnection):
    """HTTPS whose certificate is checked against `server_name` instead of the URL's host."""

    def __init__(
        self, host: str, *, context: ssl.SSLContext, server_name: str, **kwargs: Any
    ) -> None:
        super().__init__(host, context=context, **kwargs)
        self._tls = context
        self._server_name = server_name

    def connect(self) -> None:
        """Open the TCP connection, then TLS with SNI and name check for `server_name`."""
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self._server_name)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    """Opens https:// URLs with _Connection."""

    def __init__(self, context: ssl.SSLContext, server_name: str) -> None:
        super().__init__(context=context)
        self._tls = context
        self._server_name = server_name

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        """Connect with the pinned context and server name."""
        return self.do_open(
            _Connection,  # type: ignore[arg-type]
            req,
            context=self._tls,
            server_name=self._server_name,
        )
