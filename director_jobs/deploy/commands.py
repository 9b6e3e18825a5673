"""Run the validation and reload commands with the job's deadline, cancel flag and heartbeat."""

from __future__ import annotations

import os
import shlex
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from director_jobs.errors import InvalidInput
from director_jobs.execution.command import CommandSpec, run_command
from director_jobs.job_types.base import JobCancelled

# Debian installs icinga2 in /usr/sbin, which a service user's PATH often lacks.
_EXTRA_PATH = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def split_command(command: str | Sequence[str], field_name: str) -> list[str]:
    """An argv from a list or a shlex-split string; InvalidInput naming `field_name`."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise InvalidInput(field_name, command, f"cannot split: {exc}") from None
    else:
        argv = list(command)
    if not argv or not all(isinstance(a, str) for a in argv) or not argv[0]:
        raise InvalidInput(field_name, command, "expected a program and string arguments")
    return argv


def resolve_program(argv: list[str]) -> list[str] | None:
    """`argv` with its program found in PATH (or /usr/sbin, /sbin); None when missing."""
    if "/" in argv[0]:
        return argv if os.access(argv[0], os.X_OK) else None
    path = os.pathsep.join([os.environ.get("PATH", os.defpath), *_EXTRA_PATH])
    found = shutil.which(argv[0], path=path)
    return None if found is None else [found, *argv[1:]]


@dataclass
class CommandResult:
    """How a command ended and what it printed (stdout and stderr interleaved)."""

    exit_code: int | None
    lines: list[str] = field(default_factory=list)
    timed_out: bool = False

    @property
    def output(self) -> str:
        """The output as one text."""
        return "\n".join(self.lines)


@dataclass
class CommandRunner:
    """Runs commands for one job: its cancel flag, heartbeat and process registry."""

    cancel: threading.Event = field(default_factory=threading.Event)
    heartbeat: Callable[[], None] = lambda: None
    on_process: Callable[[int], None] = lambda pid: None

    def run(self, argv: list[str], timeout: float) -> CommandResult:
        """Run `argv` until it ends or `timeout`; JobCancelled on a stop request."""
        result = CommandResult(exit_code=None)
        outcome = run_command(
            CommandSpec(argv=argv, env=dict(os.environ)),
            timeout=timeout,
            cancel=self.cancel,
            on_line=lambda _stream, line: result.lines.append(line),
            on_tick=self.heartbeat,
            on_start=self.on_process,
        )
        if outcome.cancelled:
            raise JobCancelled(f"stopped on request while running {argv[0]}")
        result.exit_code = outcome.exit_code
        result.timed_out = outcome.timed_out
        return result
