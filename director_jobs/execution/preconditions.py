"""A job's preconditions, checked just before each start (OpenSVC's `run_requires`,
systemd's `Condition…=`): a path that must exist and a command that must exit 0.

The answer is the reason the start is skipped, or None. The command gets no input, runs
in a session of its own and is killed whole when it takes longer than the timeout, so a
hanging check delays the runner by that much and never more.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from pathlib import Path

from director_jobs.model import JobSpec

# Long enough for a cluster manager's status query, short enough not to hold up the
# serial runner (documented in docs/workflows.md).
TIMEOUT_SECONDS = 10.0
# How much of the command's own words the reason quotes: its last line, cut to this.
QUOTED_CHARS = 200
# A killed command is reaped within this; a process stuck in the kernel is left to init.
REAP_SECONDS = 5.0


def unmet(spec: JobSpec, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """Why the job may not start now, or None when every precondition holds."""
    if spec.requires_path is not None and not Path(spec.requires_path).exists():
        return f"precondition: {spec.requires_path} does not exist"
    if spec.requires_command:
        return _command_fails(spec.requires_command, timeout)
    return None


def _command_fails(argv: tuple[str, ...], timeout: float) -> str | None:
    """None when the command exits 0; otherwise what it did instead.

    Its output goes to a file, not a pipe: the answer is the command's exit, whatever a
    process it left behind keeps open.
    """
    import shlex  # here: a cron `jobs run` without such a job never needs it

    shown = shlex.join(argv)
    with tempfile.TemporaryFile() as printed:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=printed,
                stderr=subprocess.STDOUT,
                cwd="/",
                start_new_session=True,  # its whole group can be killed on timeout
            )
        except OSError as exc:
            return f"precondition: {shown} could not start: {exc.strerror or exc}"
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return f"precondition: {shown} did not answer within {timeout:g} s"
        if code == 0:
            return None
        printed.seek(0)
        last = _last_line(printed.read(64 * 1024).decode("utf-8", errors="replace"))
    said = f": {last}" if last else ""
    return f"precondition: {shown} exited {code}{said}"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the command and whatever it started in its session, then reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=REAP_SECONDS)


def _last_line(text: str) -> str:
    """The last non-empty line, cut to QUOTED_CHARS."""
    for line in reversed(text.splitlines()):
        if line.strip():
            line = line.strip()
            return line if len(line) <= QUOTED_CHARS else line[: QUOTED_CHARS - 1] + "…"
    return ""
