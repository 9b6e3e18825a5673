"""Run one external command with captured output, a deadline and a cancel flag."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from director_jobs.execution.process_tree import kill_tree

# How often the waiting loop looks at the cancel flag; also the worst-case delay
# between a stop request and the kill.
_POLL_SECONDS = 0.1
# Longest line handed on at once; longer lines arrive in pieces.
_MAX_LINE_BYTES = 64 * 1024


@dataclass(frozen=True)
class CommandOutcome:
    """How a command ended."""

    exit_code: int | None
    timed_out: bool
    cancelled: bool


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
) -> CommandOutcome:
    """Start `spec` in its own session, stream its lines to `on_line(stream, line)`, wait.

    On timeout or cancel the whole process tree is killed. Raises OSError when the
    command cannot be started (missing program, bad cwd, unknown user).
    """
    process = subprocess.Popen(
        list(spec.argv),
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
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "stdout", on_line), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "stderr", on_line), daemon=True),
    ]
    for reader in readers:
        reader.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out = cancelled = False
    while True:
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
        if timed_out or cancelled:
            kill_tree(process.pid)
            process.wait()
            break
    # Grandchildren that keep the pipes open must not keep us waiting forever.
    for reader in readers:
        reader.join(timeout=2)
    if timed_out or cancelled:
        return CommandOutcome(None, timed_out, cancelled)
    return CommandOutcome(process.returncode, False, False)


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
