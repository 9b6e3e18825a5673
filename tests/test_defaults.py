"""Where the embedded database goes when nothing is configured, how it is opened, and how
logs look on a terminal: real processes, real files, a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import shlex
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import DIRECTOR, missing

from director_jobs.db.database import Database
from director_jobs.db.engine import SQLITE_BUSY_TIMEOUT_MS


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user who configured nothing (plus `extra`)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DIRECTOR_JOBS_")
        and k not in ("STATE_DIRECTORY", "INVOCATION_ID", "XDG_DATA_HOME", "NO_COLOR")
    }
    return {**env, "DIRECTOR_JOBS_CONFIG": "", "TZ": "UTC", **extra}


def director(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DIRECTOR, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_default_database_is_created_in_the_users_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = director(clean_env(XDG_DATA_HOME=str(data)), "jobs", "list", "--json")
    assert result.returncode == 0, result.stderr
    database = data / "director-jobs" / "jobs.db"
    assert database.is_file()
    with sqlite3.connect(database) as connection:  # created *and* migrated
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"jobs", "runs", "alembic_version"} <= tables


def test_a_system_service_uses_its_state_directory(tmp_path: Path) -> None:
    state, data = tmp_path / "state", tmp_path / "data"
    state.mkdir()
    env = clean_env(STATE_DIRECTORY=str(state), XDG_DATA_HOME=str(data))
    result = director(env, "jobs", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert (state / "jobs.db").is_file()
    assert not (data / "director-jobs" / "jobs.db").exists()


def test_sqlite_is_opened_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    database = Database.open(f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        with database.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    finally:
        database.dispose()
    assert (mode, timeout) == ("wal", SQLITE_BUSY_TIMEOUT_MS)
    with sqlite3.connect(tmp_path / "jobs.db") as raw:  # WAL is a property of the file
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def on_a_terminal(env: dict[str, str], *args: str) -> bytes:
    """What `director ARGS` writes to a pseudo-terminal (stdout and stderr both)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*DIRECTOR, *args], env=env, stdin=terminal, stdout=terminal, stderr=terminal
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    os.close(controller)
    return output


def test_logs_are_coloured_on_a_terminal_and_plain_elsewhere(tmp_path: Path) -> None:
    env = clean_env(DIRECTOR_JOBS_DATABASE_URL=f"sqlite:///{tmp_path / 'jobs.db'}")
    coloured = on_a_terminal(env, "-v", "jobs", "execute", "self-check")
    assert b"Job finished successfully" in coloured
    assert b"\x1b[" in coloured  # ANSI colour codes
    plain = director(env, "-v", "jobs", "execute", "self-check")
    assert plain.returncode == 0 and "Job finished successfully" in plain.stderr
    assert "\x1b[" not in plain.stderr + plain.stdout
    no_color = on_a_terminal({**env, "NO_COLOR": "1"}, "-v", "jobs", "execute", "self-check")
    assert b"Job finished successfully" in no_color and b"\x1b[" not in no_color


def test_first_use_says_it_migrates_in_one_line_at_verbose(tmp_path: Path) -> None:
    """-v: our one "migrating" line, not Alembic's plug-in and revision chatter (--debug)."""
    env = clean_env(DIRECTOR_JOBS_DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}")
    verbose = director(env, "-v", "jobs", "execute", "self-check")
    assert verbose.returncode == 0, verbose.stderr
    assert verbose.stderr.count("migrating ") == 1
    assert "alembic" not in verbose.stderr and "Running upgrade" not in verbose.stderr
    env = clean_env(DIRECTOR_JOBS_DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}")
    debug = director(env, "--debug", "jobs", "execute", "self-check")
    assert "Running upgrade 0001 -> 0002" in debug.stderr


def in_private_mounts(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a shell `script` as root in a mount namespace of its own: what it mounts (a tmpfs
    on /var/lib, a read-only bind) is seen by it and its children only, never the host."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        missing("a private mount namespace", "run as root with util-linux's unshare")
    command = " ".join(shlex.quote(part) for part in DIRECTOR)
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-euc", script],
        env={**env, "DIRECTOR": command},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_root_uses_the_services_database_when_its_folder_exists(tmp_path: Path) -> None:
    """Root's `jobs add` must reach the database the service reads, not one in ~/.local."""
    home = tmp_path / "home"
    script = """
        mount -t tmpfs -o mode=755 tmpfs /var/lib
        $DIRECTOR jobs add before --type self-check      # no service folder: the user's own
        mkdir /var/lib/director-jobs
        chown nobody:nogroup /var/lib/director-jobs
        $DIRECTOR -v jobs add after --type self-check    # now the service's
        stat -c '%U:%G %a' /var/lib/director-jobs/jobs.db
        $DIRECTOR jobs list --json
    """
    result = in_private_mounts(script, clean_env(HOME=str(home)))

    assert result.returncode == 0, result.stderr
    assert "database: sqlite:////var/lib/director-jobs/jobs.db" in result.stderr
    lines = result.stdout.splitlines()
    owner, listing = lines[2], "\n".join(lines[3:])
    assert owner == "nobody:nogroup 640"  # the service's, not root's
    assert [job["name"] for job in json.loads(listing)] == ["after"]
    with sqlite3.connect(home / ".local/share/director-jobs/jobs.db") as own:
        assert [row[0] for row in own.execute("SELECT name FROM jobs")] == ["before"]


@pytest.mark.parametrize("writer", [False, True], ids=["alone", "while-a-writer-has-it-open"])
def test_a_database_this_user_cannot_write_is_opened_read_only(
    tmp_path: Path, writer: bool
) -> None:
    """Inspection works (e.g. the nagios user's health check); a change says why it fails.

    Alone, the file has no -wal beside it and is read as it is; with a writer (the daemon)
    holding it open, through WAL's shared memory, seeing what the writer committed.
    """
    folder = tmp_path / "db"
    folder.mkdir()
    url = f"sqlite:///{folder / 'jobs.db'}"
    seeded = director(clean_env(DIRECTOR_JOBS_DATABASE_URL=url), "jobs", "add", "kept",
                      "--type", "self-check")  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    script = f"""
        mount --bind {folder} {folder}
        mount -o remount,bind,ro {folder}
        $DIRECTOR -v jobs list --json
        $DIRECTOR jobs add new --type self-check || echo "add: $?"
    """
    held = sqlite3.connect(folder / "jobs.db") if writer else None
    if held is not None:  # the daemon's open connection: -wal and -shm exist, and new rows
        held.execute("UPDATE jobs SET description = 'changed' WHERE name = 'kept'")
        held.commit()
    try:
        result = in_private_mounts(script, clean_env(DIRECTOR_JOBS_DATABASE_URL=url))
    finally:
        if held is not None:
            held.close()

    assert result.returncode == 0, result.stderr
    listing, added = result.stdout.rsplit("\n", 2)[:2]
    assert [job["name"] for job in json.loads(listing)] == ["kept"]
    assert json.loads(listing)[0]["description"] == ("changed" if writer else "")
    assert added == "add: 1"
    assert f"database: {url} (read-only)" in result.stderr
    assert "director: error: the database is read-only for this user (uid 0): " in result.stderr
    assert "Traceback" not in result.stderr


def test_a_home_folder_that_cannot_hold_the_database_is_one_line(tmp_path: Path) -> None:
    result = director(clean_env(HOME="/etc/passwd"), "jobs", "list")
    assert result.returncode == 78
    assert result.stderr == (
        "director: error: database_url: cannot create the default folder "
        "'/etc/passwd/.local/share/director-jobs': Not a directory; "
        "give --db or DIRECTOR_JOBS_DATABASE_URL\n"
    )
