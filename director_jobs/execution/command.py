"""Run one external command with captured output, a deadline and a cancel flag.

The command starts in a session of its own, and in the job's cgroup when it has one. A
small /bin/sh prologue first waits until the runner has noted its process (so that the
reaper knows it before the command can start anything), then moves itself into the
cgroup, then execs the command: nothing the command starts can be outside. Both pipes
are read here, in one thread. When the main process ends, whatever it left running is
killed and the run's log says so; output still in flight is read for at most
OUTPUT_DRAIN_SECONDS more, so a background process that escaped with the pipes open
cannot hold the run.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from director_jobs.execution.cgroups import JobCgroup
from director_jobs.execution.containment import end_leftovers, kernel_memory_message
from director_jobs.execution.limits import TreeMemoryWatch
from director_jobs.execution.process_tree import kill_tree

# How often the waiting loop looks at the cancel flag and the deadline; also the
# worst-case delay between a stop request and the kill.
_POLL_SECONDS = 0.1
# Longest line handed on at once; longer lines arrive in pieces.
_MAX_LINE_BYTES = 64 * 1024
# After the main process (and what it left) ended: read what is still in the pipes for
# at most this long. Enough for any buffered output; not for a process that escaped.
OUTPUT_DRAIN_SECONDS = 1.0

# setpriv (util-linux) execs the command with a parent-death signal, so that a runner
# killed with SIGKILL takes the command with it, and switches user where asked.
_SETPRIV = shutil.which("setpriv")
# The prologue that puts the command into its cgroup: `sh -c PROLOGUE sh N FILE… ARGV…`
# writes 0 (itself) to N cgroup.procs files, then becomes the command. Exit 125 when it
# cannot (the runner checked the files, so that means the cgroup went away meanwhile).
_ENTER_CGROUP = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do echo 0 > "$1" || exit 125; shift; n=$((n-1)); done; '
)
# The start gate: the prologue reads one line from its stdin (a pipe from the runner)
# before it goes on, so that the command starts only after the runner told its reaper
# the process group. A runner killed in between leaves the pipe unwritten: the prologue
# exits 125 and nothing ran. The command itself gets /dev/null as its stdin.
_AWAIT_GO = "read -r _ || exit 125; exec </dev/null; "


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


def launch_argv(spec: CommandSpec, cgroup: JobCgroup | None) -> tuple[list[str], dict[str, Any]]:
    """The argv that starts `spec` (gated prologue, setpriv, the command) and Popen's options.

    With setpriv the user switch happens after the cgroup move, which needs root; without
    it Popen switches before exec (and the command gets no parent-death signal).
    """
    argv = list(spec.argv)
    identity: dict[str, Any] = {}
    if _SETPRIV is not None:
        switch: list[str] = []
        if spec.user is not None or spec.group is not None:
            switch = _setpriv_switch(spec)
        argv = [_SETPRIV, *switch, "--pdeathsig", "KILL", "--", *argv]
    else:
        identity = {"user": spec.user, "group": spec.group, "extra_groups": spec.extra_groups}
    files: list[str] = []
    if cgroup is not None and (_SETPRIV is not None or not identity.get("user")):
        # (Without setpriv the user switch comes first, and the user may not enter it.)
        files = [str(f) for f in cgroup.procs_files]
    prologue = _AWAIT_GO + (_ENTER_CGROUP if files else "") + 'exec "$@"'
    return [
        "/bin/sh",
        "-c",
        prologue,
        "sh",
        *([str(len(files)), *files] if files else []),
        *argv,
    ], identity


def _setpriv_switch(spec: CommandSpec) -> list[str]:
    """setpriv options for the user and group of `spec` (as a login would set them)."""
    options = []
    if spec.group is not None:
        options.append(f"--regid={spec.group}")
    if spec.user is not None:
        options.append(f"--reuid={spec.user}")
        groups = ",".join(str(g) for g in spec.extra_groups or ())
        options.append(f"--groups={groups}" if groups else "--clear-groups")
    else:
        options.append("--keep-groups")
    return options


def run_command(
    spec: CommandSpec,
    *,
    timeout: float | None,
    cancel: threading.Event,
    on_line: Callable[[str, str], None],
    on_tick: Callable[[], None] = lambda: None,
    memory_limit_mib: float | None = None,
    on_start: Callable[[int], None] = lambda pid: None,
    cgroup: JobCgroup | None = None,
    logger: logging.LoggerAdapter[Any] | None = None,
) -> CommandOutcome:
    """Start `spec`, stream its lines to `on_line(stream, line)`, wait; end what it leaves.

    On timeout or cancel the whole job is killed (its cgroup, else its process tree).
    Raises OSError when the command cannot be started (missing program, bad cwd).
    """
    _check_program(spec.argv[0], spec.env, spec.cwd)
    argv, identity = launch_argv(spec, cgroup)
    process = _start_gated(argv, spec, identity, on_start)
    assert process.stdout is not None and process.stderr is not None
    reader = _LineReader({process.stdout: "stdout", process.stderr: "stderr"}, on_line)
    # The kernel enforces a cgroup's limit; otherwise the tree's memory is sampled.
    sampled = None if cgroup is not None and cgroup.memory_limited else memory_limit_mib
    memory = TreeMemoryWatch(process.pid, sampled)
    deadline = None if timeout is None else time.monotonic() + timeout
    ended_by: str | None = None
    memory_message = None
    while process.poll() is None:
        on_tick()
        wait = _POLL_SECONDS if deadline is None else _until(deadline)
        if reader.open:
            reader.read(wait)
        else:  # its pipes are closed: wait for the exit itself, not a whole poll longer
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(wait)
        if process.poll() is not None:
            break
        if cancel.is_set():
            ended_by = "cancelled"
        elif deadline is not None and time.monotonic() >= deadline:
            ended_by = "timed out"
        else:
            memory_message = memory.exceeded() or kernel_memory_message(cgroup, memory_limit_mib)
        if ended_by or memory_message:
            _kill_job(process, cgroup)
            break
    memory_message = memory_message or kernel_memory_message(cgroup, memory_limit_mib)
    if ended_by is None and memory_message is None:
        end_leftovers(cgroup, process.pid, logger)
    reader.drain(OUTPUT_DRAIN_SECONDS)
    process.wait()
    if ended_by is None and memory_message is None:
        return CommandOutcome(process.returncode, False, False)
    return CommandOutcome(None, ended_by == "timed out", ended_by == "cancelled", memory_message)


def _start_gated(
    argv: list[str],
    spec: CommandSpec,
    identity: dict[str, Any],
    on_start: Callable[[int], None],
) -> subprocess.Popen[bytes]:
    """Start the gated prologue, call `on_start(pid)`, then let the command go."""
    gate_read, gate_write = os.pipe()
    try:
        process = subprocess.Popen(
            argv,
            stdin=gate_read,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(spec.env),
            cwd=spec.cwd,
            start_new_session=True,  # own session and group: the fallback reaches the job
            **identity,
        )
    except BaseException:
        os.close(gate_write)
        raise
    finally:
        os.close(gate_read)
    try:
        on_start(process.pid)
        os.write(gate_write, b"go\n")
    except BaseException:
        os.close(gate_write)  # unwritten: the prologue exits 125 without running anything
        process.communicate()
        raise
    os.close(gate_write)
    return process


def _until(deadline: float) -> float:
    """Seconds to wait now: the poll interval, or less when the deadline is nearer."""
    return max(0.0, min(_POLL_SECONDS, deadline - time.monotonic()))


def _kill_job(process: subprocess.Popen[bytes], cgroup: JobCgroup | None) -> None:
    """Kill the command and everything it started."""
    if cgroup is not None:
        cgroup.kill()
    else:
        kill_tree(process.pid)
    process.wait()


class _LineReader:
    """Reads lines from several pipes in the calling thread, without blocking on any."""

    def __init__(self, pipes: dict[IO[bytes], str], on_line: Callable[[str, str], None]) -> None:
        self._on_line = on_line
        self._selector = selectors.DefaultSelector()
        self._partial: dict[IO[bytes], bytes] = {}
        for pipe, stream in pipes.items():
            os.set_blocking(pipe.fileno(), False)
            self._selector.register(pipe, selectors.EVENT_READ, stream)
            self._partial[pipe] = b""

    @property
    def open(self) -> bool:
        """True while a pipe is still open (the command or a child may write)."""
        return bool(self._selector.get_map())

    def read(self, timeout: float) -> None:
        """Hand on the complete lines that arrive within `timeout` seconds."""
        if not self.open:
            time.sleep(timeout)
            return
        for key, _ in self._selector.select(timeout):
            self._read_one(key.fileobj, key.data)  # type: ignore[arg-type]

    def drain(self, limit: float) -> None:
        """Read until every pipe is closed, or for `limit` seconds; then close them."""
        deadline = time.monotonic() + limit
        while self._selector.get_map() and time.monotonic() < deadline:
            self.read(max(0.0, min(_POLL_SECONDS, deadline - time.monotonic())))
        for key in list(self._selector.get_map().values()):
            self._close(key.fileobj)  # type: ignore[arg-type]
        self._selector.close()

    def _read_one(self, pipe: IO[bytes], stream: str) -> None:
        try:
            chunk = os.read(pipe.fileno(), 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            chunk = b""
        if not chunk:
            self._close(pipe)
            return
        data = self._partial[pipe] + chunk
        *lines, rest = data.split(b"\n")
        while len(rest) > _MAX_LINE_BYTES:  # an endless line: hand it on in pieces
            lines.append(rest[:_MAX_LINE_BYTES])
            rest = rest[_MAX_LINE_BYTES:]
        self._partial[pipe] = rest
        for line in lines:
            self._emit(stream, line)

    def _close(self, pipe: IO[bytes]) -> None:
        stream = self._selector.get_key(pipe).data
        rest = self._partial.pop(pipe, b"")
        if rest:
            self._emit(stream, rest)
        self._selector.unregister(pipe)
        pipe.close()

    def _emit(self, stream: str, raw: bytes) -> None:
        self._on_line(stream, raw.decode("utf-8", "replace").rstrip("\r"))


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


def user_groups(user: str) -> tuple[int, list[int]]:
    """Return the primary gid and the supplementary groups of `user` (as login would set)."""
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_gid, os.getgrouplist(user, entry.pw_gid)
