"""A throwaway `icinga2 daemon` with its REST API on 127.0.0.1, kept out of /etc and /var.

PLATFORM.md §4: a copy of /etc/icinga2 in a temp dir, every path constant pointed there with
-D, `icinga2 api setup` for a CA, a certificate (CN = `cn`) and the ApiUser "root", the
listener bound to 127.0.0.1 on a free port, RunAsUser/RunAsGroup = the current user. The
node's zone is called "master" (as after `icinga2 node wizard` on a master), so that
`zones.d/master/…` in a config package belongs to it; conf.d keeps only the stock templates,
commands and time periods (no example hosts or groups).

Use `IcingaDaemon.start()` / `stop()` (stop kills the whole process group, also after the
daemon re-executed itself for a reload), or the `icinga_daemon` context manager.
"""

from __future__ import annotations

import base64
import contextlib
import grp
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

ICINGA_ETC = Path("/etc/icinga2")
# conf.d files kept: the stock templates and commands, no example objects (Debian's
# groups.conf defines "linux-servers", which deployed objects may define themselves).
KEEP_CONF_D = frozenset({"app.conf", "commands.conf", "templates.conf", "timeperiods.conf"})
ZONE = "master"
CN = "director-test.local"
# `api setup` generates 4096-bit RSA keys: about 4-7 s on the project machines.
SETUP_TIMEOUT_SECONDS = 120
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


def find_icinga2() -> str | None:
    """The icinga2 binary (Debian installs it in /usr/sbin, not always in PATH)."""
    found = shutil.which("icinga2")
    if found is None and Path("/usr/sbin/icinga2").exists():
        found = "/usr/sbin/icinga2"
    return found


def require_icinga2() -> str:
    """The icinga2 binary; missing fails in CI and skips locally."""
    from conftest import missing

    found = find_icinga2()
    if found is None:
        missing("icinga2", "apt-get install icinga2")
    assert found is not None
    return found


def read_objects_cache(path: Path) -> list[dict[str, Any]]:
    """The objects `icinga2 daemon -C` wrote to CacheDir/icinga2.debug (netstrings of JSON)."""
    data = path.read_bytes()
    records: list[dict[str, Any]] = []
    position = 0
    while position < len(data):
        colon = data.index(b":", position)
        length = int(data[position:colon])
        records.append(json.loads(data[colon + 1 : colon + 1 + length]))
        position = colon + 1 + length + 1  # the netstring's trailing ','
    return records


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every file under `roots`: proof that nothing there changed."""
    snapshot: dict[str, tuple[int, int]] = {}
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            with contextlib.suppress(OSError):
                stat = path.lstat()
                snapshot[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return snapshot


class IcingaDaemon:
    """One icinga2 daemon in `folder`; call start(), then stop() in a finalizer."""

    def __init__(self, folder: Path, icinga2: str, cn: str = CN) -> None:
        self.folder = folder
        self.icinga2 = icinga2
        self.cn = cn
        self.port = free_port()
        self.etc = folder / "etc"
        self.data = folder / "data"
        self.user = "root"
        self.password = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped_pgid: int | None = None

    @property
    def defines(self) -> list[str]:
        """The -D path constants that keep every file of this daemon in `folder`."""
        f = self.folder
        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        return [
            f"-DConfiguration.ConfigDir={self.etc}",
            f"-DConfiguration.DataDir={self.data}",
            f"-DConfiguration.LogDir={f / 'log'}",
            f"-DConfiguration.CacheDir={f / 'cache'}",
            f"-DConfiguration.SpoolDir={f / 'spool'}",
            f"-DConfiguration.InitRunDir={f / 'run'}",
            f"-DConfiguration.PidPath={f / 'run' / 'icinga2.pid'}",
            f"-DConfiguration.ZonesDir={self.etc / 'zones.d'}",
            f"-DConfiguration.RunAsUser={user}",
            f"-DConfiguration.RunAsGroup={group}",
        ]

    @property
    def url(self) -> str:
        """The API's base URL (the certificate says `cn`, not 127.0.0.1)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        """The CA that signed the daemon's certificate."""
        return self.data / "certs" / "ca.crt"

    def setup(self) -> None:
        """Copy /etc/icinga2, run `api setup`, bind to 127.0.0.1:port, call the zone 'master'."""
        for name in ("etc", "data", "log", "cache", "spool", "run"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        shutil.copytree(ICINGA_ETC, self.etc, dirs_exist_ok=True, symlinks=True)
        for enabled in (self.etc / "features-enabled").iterdir():
            enabled.unlink()
        for example in (self.etc / "conf.d").iterdir():
            if example.name not in KEEP_CONF_D:
                example.unlink()
        subprocess.run(
            [self.icinga2, "api", "setup", *self.defines, "--cn", self.cn],
            check=True,
            capture_output=True,
            timeout=SETUP_TIMEOUT_SECONDS,
        )
        api_conf = self.etc / "features-available" / "api.conf"
        api_conf.write_text(
            api_conf.read_text().replace(
                "ticket_salt = TicketSalt",
                f'ticket_salt = TicketSalt\n  bind_host = "127.0.0.1"\n  bind_port = {self.port}',
            )
        )
        (self.etc / "features-enabled" / "mainlog.conf").symlink_to(
            "../features-available/mainlog.conf"
        )
        constants = self.etc / "constants.conf"
        constants.write_text(
            re.sub(
                r"(?m)^const ZoneName = .*$", f'const ZoneName = "{ZONE}"', constants.read_text()
            )
        )
        users = (self.etc / "conf.d" / "api-users.conf").read_text()
        match = re.search(r'password = "([^"]+)"', users)
        assert match, "api setup wrote no ApiUser password"
        self.password = match.group(1)

    def validate(self) -> subprocess.CompletedProcess[str]:
        """`icinga2 daemon -C` on this daemon's configuration."""
        return subprocess.run(
            [self.icinga2, "daemon", "-C", "-c", str(self.etc / "icinga2.conf"), *self.defines],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self) -> None:
        """Start the daemon in its own process group and wait until the API answers."""
        if not self.password:
            self.setup()
        log = (self.folder / "log" / "stdout.log").open("ab")
        with log:
            self._process = subprocess.Popen(
                [self.icinga2, "daemon", "-c", str(self.etc / "icinga2.conf"), *self.defines],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own group: stop() reaches the re-executed workers too
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"icinga2 daemon exited early:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                status, _ = self.request("GET", "/v1/status/IcingaApplication")
                if status == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"icinga2 API did not answer within {START_TIMEOUT_SECONDS} s")

    def stop(self) -> None:
        """SIGTERM the process group (again each second: a reloading umbrella process misses
        it), SIGKILL what is left after STOP_TIMEOUT_SECONDS; never raises."""
        process = self._process
        if process is None:
            return
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        self._stopped_pgid = process.pid
        self._process = None

    def alive(self) -> bool:
        """True while a process of the daemon's group exists (zombies of ours excepted)."""
        pgid = self._process.pid if self._process else self._stopped_pgid
        if pgid is None:
            return False
        if self._process is not None and self._process.poll() is None:
            return True
        for process in psutil.process_iter(["status"]):
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                    return True
        return False

    def log_tail(self, size: int = 4000) -> str:
        """The end of the daemon's stdout/stderr."""
        path = self.folder / "log" / "stdout.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def ssl_context(self) -> ssl.SSLContext:
        """Trust only the daemon's CA; the host name checked is the CN."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def request(
        self, method: str, path: str, body: Any = None, *, accept: str = "application/json"
    ) -> tuple[int, bytes]:
        """One API call as ApiUser root; (status, body) also for HTTP errors.

        While the daemon reloads it may refuse or cut connections: retried for up to 10 s.
        """
        auth = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            f"https://{self.cn}:{self.port}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Accept": accept, "Authorization": f"Basic {auth}"},
        )
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), _PinnedHTTPSHandler(self.ssl_context())
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with opener.open(request, timeout=10) as response:
                    return int(response.status), response.read()
            except urllib.error.HTTPError as exc:
                with exc:
                    return exc.code, exc.read()
            except OSError:
                if time.monotonic() >= deadline:
                    raise
            time.sleep(0.2)

    def get_json(self, path: str) -> tuple[int, Any]:
        """GET `path` and decode the JSON answer."""
        status, body = self.request("GET", path)
        return status, json.loads(body) if body else None

    def wait_for_host(self, name: str, timeout: float = 30) -> dict[str, Any]:
        """Wait until /v1/objects/hosts/<name> answers 200 (after the reload); its attrs."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                status, last = self.get_json(f"/v1/objects/hosts/{urllib.parse.quote(name)}")
                if status == 200:
                    attrs: dict[str, Any] = last["results"][0]["attrs"]
                    return attrs
            time.sleep(0.2)
        raise AssertionError(f"host {name!r} not visible within {timeout} s: {last}")

    def active_stage(self, package: str) -> str | None:
        """The package's active stage, None when the package does not exist."""
        status, answer = self.get_json("/v1/config/packages")
        assert status == 200, answer
        for entry in answer["results"]:
            if entry["name"] == package:
                stage: str | None = entry.get("active-stage")
                return stage
        return None


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    """HTTPS to 127.0.0.1 under the certificate's name: connect to the IP, verify the CN."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self._tls = context

    def https_open(self, req: urllib.request.Request) -> Any:
        host, _, port = req.host.partition(":")

        class Connection(http.client.HTTPSConnection):
            def connect(self) -> None:
                self.sock = socket.create_connection(("127.0.0.1", int(port)), self.timeout)
                self.sock = tls.wrap_socket(self.sock, server_hostname=host)

        tls = self._tls
        return self.do_open(Connection, req)


@contextlib.contextmanager
def icinga_daemon(icinga2: str) -> Iterator[IcingaDaemon]:
    """A started daemon in a fresh temp dir; stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="director-jobs-icinga-"))
    daemon = IcingaDaemon(folder, icinga2)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(folder, ignore_errors=True)
