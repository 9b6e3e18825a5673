"""Shared fixtures: real SQLite files and a real, throwaway PostgreSQL server started here."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner, Result

from director_jobs.cli import root
from director_jobs.clock import FakeClock
from director_jobs.db.database import Database

IN_CI = os.environ.get("CI") == "true"
T = TypeVar("T")
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
REPO = Path(__file__).resolve().parent.parent
DIRECTOR = [sys.executable, "-m", "director_jobs"]


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (/proc/PID/stat's state)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(probe: Callable[[], T], what: str, seconds: float = 90) -> T:
    """`probe()` once it is truthy; AssertionError naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def read_pids(path: Path, count: int, seconds: float = 60) -> list[int]:
    """Wait until a job wrote `count` pids to `path` (one a line), then return them."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = [int(p) for p in path.read_text().split()] if path.exists() else []
        if len(pids) >= count:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"the job did not write {count} pids to {path}")


def wait_until_gone(pids: list[int], seconds: float = 30) -> list[int]:
    """The pids still alive after waiting up to `seconds` for all to end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def missing(component: str, how: str) -> None:
    """Fail in CI (the component must be there), skip locally with what to install."""
    message = f"{component} is not available: {how}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A throwaway cluster in a temp dir, run as the `postgres` user, listening on 127.0.0.1."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: that is mode 0700 under /tmp/pytest-of-root.
        self.folder = Path(tempfile.mkdtemp(prefix="director-jobs-pg-"))
        # Removed at exit too, should the teardown never run (pytest interrupted).
        atexit.register(shutil.rmtree, self.folder, True)
        shutil.chown(self.folder, "postgres", "postgres")
        self.port = free_port()
        self._names = itertools.count(1)

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def start(self) -> None:
        data = self.folder / "data"
        self._as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self._pg_ctl_start()

    def _pg_ctl_start(self) -> None:
        data = self.folder / "data"
        options = (
            f"-k {self.folder} -p {self.port} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.folder / "log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def pause(self) -> None:
        """Stop the server but keep its data (an outage)."""
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"
        )

    def resume(self) -> None:
        """Start the paused server again on the same port."""
        self._pg_ctl_start()

    def stop(self) -> None:
        try:
            self._as_postgres(
                str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"
            )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database for one test and return its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (fails in CI when it cannot start)."""
    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        missing("PostgreSQL 15", "run as root with `apt-get install postgresql-15`")
    server = PostgresServer()
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(server.folder, ignore_errors=True)
        missing(
            "PostgreSQL 15", f"initdb/pg_ctl failed: {exc.stderr.decode(errors='replace')[-500:]}"
        )
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def other_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A second empty database of the same backend."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'other.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file (for tests about the CLI rather than the backend)."""
    return f"sqlite:///{tmp_path / 'jobs.db'}"


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """An opened, migrated database of each backend."""
    db = Database.open(db_url)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at a fixed, ordinary instant."""
    return FakeClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


def invoke(
    url: str, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> Result:
    """Run the CLI in-process against `url` (CliRunner), like a user would."""
    runner = CliRunner()
    full_env = {
        "DIRECTOR_JOBS_DATABASE_URL": url,
        "DIRECTOR_JOBS_CONFIG": "",
        "TZ": "UTC",
        "COLUMNS": "",  # tables are cut to a terminal's width; tests have none
        **(env or {}),
    }
    return runner.invoke(
        root, list(args), input=input, env=full_env, catch_exceptions=False, prog_name="director"
    )


def director_env(url: str) -> dict[str, str]:
    """The environment of a `director` child on `url`: UTC, and no config file of the machine."""
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": url, "TZ": "UTC"}
    env.pop("DIRECTOR_JOBS_CONFIG", None)
    return env


def run_director(
    url: str,
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m director_jobs` as a real child process."""
    full_env = {**director_env(url), "COLUMNS": ""}
    full_env.update(env or {})
    return subprocess.run(
        [*DIRECTOR, *args],
        input=input,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# What each phase of a test came to, for fixtures that keep evidence of a failure (the
# browser tests save a screenshot): item.stash[PHASE_REPORTS]["call"].failed.
PHASE_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report
