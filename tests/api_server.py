"""A real `director serve` on a free 127.0.0.1 port, and tokens made with the real CLI."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
from pathlib import Path

import httpx
from conftest import DIRECTOR, free_port, run_director

# Starting takes well under a second on an idle machine; give a busy one plenty.
START_SECONDS = 90


class ApiServer:
    """`director serve` as a child process; `url` is its base, its stderr goes to a file."""

    def __init__(
        self, database_url: str, log: Path, *extra: str, config: Path | None = None
    ) -> None:
        self.database_url = database_url
        self.config = config  # a config file for the server (none: the machine's is ignored)
        self.log_path = log
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.scheme = "https" if "--tls-cert" in extra else "http"

    @property
    def url(self) -> str:
        """The server's base URL (without /api/v1)."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, verify: ssl.SSLContext | bool = True) -> ApiServer:
        """Start and wait until /api/v1/health answers (a port taken meanwhile: retry)."""
        for _ in range(3):
            self.port = free_port()
            env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": self.database_url, "TZ": "UTC"}
            env.pop("DIRECTOR_JOBS_CONFIG", None)
            if self.config is not None:
                env["DIRECTOR_JOBS_CONFIG"] = str(self.config)
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [*DIRECTOR, "serve", "--listen", f"127.0.0.1:{self.port}", *self.extra],
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            try:
                ready = self._wait_ready(verify)
            except BaseException:  # never leave a server behind
                self.stop()
                raise
            if ready:
                return self
            self.stop()
        raise AssertionError(f"director serve did not start:\n{self.log()}")

    def _wait_ready(self, verify: ssl.SSLContext | bool) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                httpx.get(f"{self.url}/api/v1/health", verify=verify, timeout=5)
                return True
            except httpx.TransportError:
                time.sleep(0.1)
        return False

    def log(self) -> str:
        """What the server wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        """SIGTERM, wait; the exit code (uvicorn re-raises the signal: -15 or 143)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=60)


def make_token(database_url: str, name: str, role: str, *extra: str) -> str:
    """`director tokens add` as a script would use it: the token is the last word on stdout."""
    result = run_director(database_url, "tokens", "add", name, "--role", role, *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-1]
