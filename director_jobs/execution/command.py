"""Run one external command with captured output, a deadline and a cancel flag."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from director_jobs.execution.limits import TreeMemoryWatch
from director_jobs.execution.process_tree import kill_tree

# How often the waiting loop looks at the cancel flag; also the worst-case delay
# between a stop request and the kill.
_POLL_SECONDS = 0.1
# Longest line handed on at once; longer lines arrive in pieces.
_MAX_LINE_BYTES = 64 * 1024


# setpriv (util-linux) execs the command with a parent-death signal: if the runner is
# killed with SIGKILL, the kernel kills the command too instead of leaving it behind.
_SETPRIV = shutil.which("setpriv")
_DIE_WITH_RUNNER = [_SETPRIV, "--pdeathsig", "KILL", "--"] if _SETPRIV else []


@dataclass(frozen=True)
class CommandOutcome:
    """How a command ended."""

    exit_code: int | None
    timed_out: bool
    cancelled: bool
    memory_exceeded: str | None = None


@dataclass(frozen=True)
class CommandSpec:
    """Everything needed to start a command."""

    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: str | None = None
    user: str | None = None
    group: str | int | None = None
    extra_groups: Sequence[int] | None = None


def run_command(
    spec: CommandSpec,
    *,
    timeout: float | None,
    cancel: threading.Event,
    on_line: Callable[[str, str], None],
    on_tick: Callable[[], None] = lambda: None,
    memory_limit_mib: float | None = None,
    on_start: Callable[[int], None] = lambda pid: None,
) -> CommandOutcome:
    """Start `spec` in its own session, stream its lines to `on_line(stream, line)`, wait.

    On timeout or cancel the whole process tree is killed. Raises OSError when the
    command cannot be started (missing program, bad cwd, unknown user).
    """
    _check_program(spec.argv[0], spec.env, spec.cwd)
    process = subprocess.Popen(
        [*_DIE_WITH_RUNNER, *spec.argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(spec.env),
        cwd=spec.cwd,
        user=spec.user,
        group=spec.group,
        extra_groups=spec.extra_groups,
        start_new_session=True,  # own process group: one killpg reaches the whole job
    )
    assert process.stdout is not None and process.stderr is not None
    on_start(process.pid)
    memory = TreeMemoryWatch(process.pid, memory_limit_mib)
    memory_message = None
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "stdout", on_line), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "stderr", on_line), daemon=True),
    ]
    for reader in readers:
        reader.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out = cancelled = False
    while True:
        on_tick()
        wait = (
            _POLL_SECONDS if deadline is None else min(_POLL_SECONDS, deadline - time.monotonic())
        )
        try:
            process.wait(timeout=max(wait, 0))
            break
        except subprocess.TimeoutExpired:
            pass
        if cancel.is_set():
            cancelled = True
        elif deadline is not None and time.monotonic() >= deadline:
            timed_out = True
        else:
            memory_message = memory.exceeded()
        if timed_out or cancelled or memory_message:
            kill_tree(process.pid)
            process.wait()
            break
    # Grandchildren that keep the pipes open must not keep us waiting forever.
    for reader in readers:
        reader.join(timeout=2)
    if timed_out or cancelled or memory_message:
        return CommandOutcome(None, timed_out, cancelled, memory_message)
    return CommandOutcome(process.returncode, False, False)


def _check_program(program: str, env: Mapping[str, str], cwd: str | None) -> None:
    """Raise the OSError exec would raise, before the setpriv wrapper hides it in an exit code."""
    if "/" in program:
        path = Path(cwd or ".", program)
        if not path.exists():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", program)
        if not os.access(path, os.X_OK) or path.is_dir():
            raise PermissionError(errno.EACCES, "Permission denied", program)
    elif shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        raise FileNotFoundError(errno.ENOENT, "not found in PATH", program)


def _pump(pipe: IO[bytes], stream: str, on_line: Callable[[str, str], None]) -> None:
    """Read `pipe` line by line until EOF, decoding leniently."""
    with pipe:
        for raw in iter(lambda: pipe.readline(_MAX_LINE_BYTES), b""):
            on_line(stream, raw.decode("utf-8", "replace").rstrip("\r\n"))


def user_groups(user: str) -> tuple[int, list[int]]:
    """Return the primary gid and the supplementary groups of `user` (as login would set)."""
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_gid, os.getgrouplist(user, entry.pw_gid)
