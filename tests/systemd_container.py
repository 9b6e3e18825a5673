"""A real systemd 252 as PID 1 for the unit tests: boot it (tests/systemd/boot.sh, PLATFORM.md
§2) on an overlay of the host root, drive it through nsenter, and clean up after it.

The overlay is the host's own root, so the checkout, its venv and icinga2 are all there;
what the tests change inside (users, /var/lib, /etc) stays in the overlay.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, missing

BOOT = Path(__file__).resolve().parent / "systemd" / "boot.sh"
# The `director` console script of the interpreter that runs the tests (the project venv).
DIRECTOR_BIN = Path(sys.executable).parent / "director"
SYSTEMD = Path("/lib/systemd/systemd")
TARGET = "director-jobs-test.target"
HOST_TMP = Path("/mnt/host-tmp")  # where boot.sh shows the host's /tmp inside


def inside(path: Path) -> Path:
    """Where a host path is seen inside the container (the host's /tmp is elsewhere there)."""
    return HOST_TMP / path.relative_to("/tmp") if path.is_relative_to("/tmp") else path


def program() -> tuple[list[str], str | None]:
    """How to start `director` inside the container, and the PYTHONPATH it needs (None: none).

    The units' PrivateTmp= hides /tmp and the container's tmpfiles empty it, so a checkout
    under /tmp (a CI clone may be there) is reached through /mnt/host-tmp: the base
    interpreter runs `-m director_jobs` with the checkout and the venv's packages on
    PYTHONPATH, since the venv's scripts and its editable-install hook name /tmp paths.
    """
    if not (REPO.is_relative_to("/tmp") or DIRECTOR_BIN.is_relative_to("/tmp")):
        return [str(DIRECTOR_BIN)], None
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    packages = Path(sysconfig.get_paths()["purelib"])
    return [str(python), "-m", "director_jobs"], f"{inside(REPO)}:{inside(packages)}"


def hidden_by_protect_home() -> list[Path]:
    """What the service needs from below /root or /home, which ProtectHome= hides.

    Here the interpreter lives in /root/.pyenv; a Debian python3 in /usr would need none.
    """
    needed = {Path(sys.base_prefix), REPO, Path(sys.prefix)}
    return sorted(p for p in needed if p.is_relative_to("/root") or p.is_relative_to("/home"))


@dataclass
class Container:
    """A booted systemd, driven through nsenter."""

    workdir: Path
    pid: int

    def run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a command inside the container (its namespaces and root), as root."""
        return subprocess.run(
            ["nsenter", "-t", str(self.pid), "-a", "-r", "-w", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def director(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """`director ARGS` inside the container, as root, with no database named: the
        defaults decide which database it is (the service's, where it exists)."""
        command, python_path = program()
        environment = ["PATH=/usr/local/bin:/usr/bin:/bin", "TZ=UTC", "HOME=/root"]
        if python_path is not None:
            environment.append(f"PYTHONPATH={python_path}")
        return self.run("env", "-i", *environment, *command, *args, timeout=timeout)

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        """`systemctl show -p …` as a dict."""
        result = self.run("systemctl", "show", unit, "-p", ",".join(properties))
        assert result.returncode == 0, result.stderr
        return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)

    def journal(self, *args: str) -> list[dict[str, Any]]:
        """`journalctl -o json …`, after making journald write out what it has."""
        self.run("journalctl", "--sync")
        result = self.run("journalctl", "--no-pager", "-o", "json", *args)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def diagnostics(self) -> str:
        """Everything that helps when a test fails: units, the whole journal, the console."""
        parts = []
        for argv in (
            ("systemctl", "--no-pager", "status", "director-jobs"),
            ("journalctl", "--no-pager", "-o", "short-precise"),
        ):
            try:
                result = self.run(*argv)
                parts.append(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}")
            except subprocess.TimeoutExpired:
                parts.append(f"$ {' '.join(argv)}: timed out")
        console = self.workdir / "console.log"
        if console.exists():
            parts.append("console.log:\n" + console.read_text(errors="replace")[-5000:])
        return "\n".join(parts)


def require_container_tools() -> None:
    """Fail in CI (skip locally) when a systemd container cannot be booted here."""
    if os.geteuid() != 0:
        missing("a systemd container", "run as root (unshare needs CAP_SYS_ADMIN)")
    for tool in ("unshare", "nsenter", "script", "systemctl", "journalctl", "systemd-sysusers"):
        if shutil.which(tool) is None:
            missing(tool, "install: apt-get install systemd util-linux bsdutils")
    if not SYSTEMD.exists():
        missing("systemd", "install: apt-get install systemd")
    # The container is an overlay of the root file system only: the venv must be on it.
    for path in (DIRECTOR_BIN, Path(sys.base_prefix), Path("/tmp")):
        if path.stat().st_dev != Path("/").stat().st_dev:
            missing("a systemd container", f"{path} is not on the root file system")


@contextlib.contextmanager
def scratch() -> Iterator[tuple[Path, Path]]:
    """A folder in the host's /tmp and its path inside the container (/mnt/host-tmp/…)."""
    host = Path(tempfile.mkdtemp(prefix="director-jobs-systemd-", dir="/tmp"))
    try:
        yield host, inside(host)
    finally:
        shutil.rmtree(host, ignore_errors=True)


@contextlib.contextmanager
def booted(unit_dir: Path) -> Iterator[Container]:
    """Boot systemd with the units of `unit_dir`; always power it off and clean up.

    On the way out the container's units and journal are printed (pytest shows them only
    for a failed test), and a cleanup that leaves something behind fails the test.
    """
    # Made here, so that cleanup knows it even if `boot.sh start` never answers.
    workdir = Path(tempfile.mkdtemp(prefix="sdtest.", dir="/tmp"))
    container: Container | None = None
    try:
        result = subprocess.run(
            ["bash", str(BOOT), "start", str(unit_dir), TARGET, "30", str(workdir)],
            capture_output=True,
            text=True,
            timeout=90,
        )
        values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        if result.returncode != 0 or "SDPID" not in values:
            pytest.fail(f"systemd did not boot (rc {result.returncode}):\n{result.stderr}")
        container = Container(workdir, int(values["SDPID"]))
        yield container
    finally:
        if container is not None:
            print(container.diagnostics())
        stop = subprocess.run(
            ["bash", str(BOOT), "stop", str(workdir), "20"],
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert stop.returncode == 0, f"cleanup left something behind:\n{stop.stderr}"


def wait_until(what: str, predicate: Callable[[], bool], timeout: float, poll: float = 0.2) -> None:
    """Poll `predicate` until it holds; fail the test naming `what` after `timeout` s."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


def messages(records: list[dict[str, Any]]) -> list[str]:
    """The MESSAGE of each journal record."""
    return [str(r.get("MESSAGE", "")) for r in records]


def index_of(records: list[dict[str, Any]], needle: str, start: int = 0) -> int:
    """Position of the first record from `start` whose MESSAGE contains `needle`."""
    for i, message in enumerate(messages(records)[start:], start):
        if needle in message:
            return i
    raise AssertionError(f"no journal line with {needle!r} after line {start}")
