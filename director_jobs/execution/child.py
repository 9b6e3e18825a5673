"""Run a job type in a forked child process, so that it can be timed out, killed and forgotten.

The child reports over a pipe, one JSON object a line: `log` records (re-logged here with
the job's fields), `output` lines (kept in the run's tail) and a final `outcome`. The
parent watches the pipe, the deadline and the cancel flag; on timeout or stop it kills
the child's whole process tree. A child that dies without an outcome fails the run.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import math
import os
import select
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from director_jobs.execution.cgroups import JobCgroup
from director_jobs.execution.containment import end_leftovers, kernel_memory_message
from director_jobs.execution.inprocess import Outcome, RunLogAdapter, execute_in_process
from director_jobs.execution.limits import TreeMemoryWatch
from director_jobs.execution.process_tree import kill_tree
from director_jobs.job_types.base import JobContext, JobType
from director_jobs.model import RunStatus

# How often the parent looks at the cancel flag while the child is quiet.
_POLL_SECONDS = 0.1
_PR_SET_PDEATHSIG = 1  # prctl(2)


class _PipeOutput:
    """The child's OutputTail stand-in: every line goes to the parent."""

    def __init__(self, send: Any) -> None:
        self._send = send

    def append(self, line: str) -> None:
        self._send({"kind": "output", "line": line})

    def text(self) -> str:
        return ""


class _PipeHandler(logging.Handler):
    """Forwards log records from the child to the parent."""

    def __init__(self, send: Any) -> None:
        super().__init__(logging.NOTSET)
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            self._send(
                {"kind": "log", "level": record.levelno, "logger": record.name, "message": message}
            )
        except Exception:  # a log line must never kill the job
            self.handleError(record)


def execute_in_child(
    job_type: JobType,
    params: dict[str, Any],
    context: JobContext,
    *,
    cgroup: JobCgroup | None = None,
    close_in_child: tuple[int, ...] = (),
) -> Outcome:
    """Fork, run the job in the child, relay its reports; never raises for the job's failures.

    The child enters `cgroup` first thing, and closes `close_in_child` (the runner's own
    descriptors that must not outlive it, such as the reaper's pipe).
    """
    read_end, write_end = os.pipe()
    level = logging.getLogger().getEffectiveLevel()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, observed through its reports
        os.close(read_end)
        for fd in close_in_child:
            with contextlib.suppress(OSError):
                os.close(fd)
        _child_main(job_type, params, context, write_end, level, cgroup)
    os.close(write_end)
    context.on_process(pid)
    return _watch_child(pid, read_end, context, cgroup)


def _child_main(
    job_type: JobType,
    params: dict[str, Any],
    context: JobContext,
    write_end: int,
    level: int,
    cgroup: JobCgroup | None,
) -> None:
    """The child's whole life: enter its cgroup and a session of its own, run, report, exit."""
    status = 0
    try:
        if cgroup is not None:
            cgroup.enter()  # before anything else: all it starts is inside
        os.setsid()  # own session and group: one signal reaches everything it starts
        _die_with_parent()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        pipe = os.fdopen(write_end, "w", buffering=1, encoding="utf-8", errors="replace")
        lock = threading.Lock()

        def send(message: dict[str, Any]) -> None:
            with lock:
                pipe.write(json.dumps(message) + "\n")

        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(_PipeHandler(send))
        root.setLevel(level)
        output = _PipeOutput(send)
        child_context = JobContext(
            job_name=context.job_name,
            run_id=context.run_id,
            # Unlimited here: the parent's adapter, which relays these lines, keeps the budget.
            logger=RunLogAdapter(
                context.logger.logger, dict(context.logger.extra or {}), output, math.inf
            ),
            clock=context.clock,
            output=output,  # type: ignore[arg-type]
            timeout=context.timeout,
            cancel=threading.Event(),
            database_url=context.database_url,
            memory_limit=None,  # the parent watches the whole tree, this child included
            force=context.force,
        )
        outcome = execute_in_process(job_type, params, child_context)
        send(
            {
                "kind": "outcome",
                "status": outcome.status.value,
                "exit_code": outcome.exit_code,
                "error": outcome.error,
                "summary": outcome.summary,
                "retry": outcome.retry,
            }
        )
        pipe.flush()
    except BaseException:  # anything escaping here must still end the child
        status = 70  # EX_SOFTWARE
    finally:
        sys.stdout.flush()
        os._exit(status)


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when the runner dies (Linux prctl)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(70)


@dataclass
class _Watch:
    """What watching a child found: its reported outcome, and why the watch ended early."""

    outcome: Outcome | None = None
    ended_by: RunStatus | None = None
    memory_message: str | None = None


def _watch_child(pid: int, read_end: int, context: JobContext, cgroup: JobCgroup | None) -> Outcome:
    """Relay the child's reports until it ends, times out or is cancelled."""
    watch = _relay_until_done(pid, read_end, context, cgroup)
    watch.memory_message = watch.memory_message or kernel_memory_message(
        cgroup, context.memory_limit
    )
    if watch.memory_message is not None:
        watch.ended_by = RunStatus.ERROR
    if watch.ended_by is not None:
        if cgroup is not None:
            cgroup.kill()
        else:
            kill_tree(pid)
        _reap(pid)
        if watch.outcome is not None and watch.memory_message is None:
            return watch.outcome  # it reported its result just before the deadline or the stop
        limit = context.timeout or 0
        messages = {
            RunStatus.TIMEOUT: f"job did not finish within {limit:g} s; killed with its children",
            RunStatus.STOPPED: "job stopped on request; killed with its children",
        }
        return Outcome(watch.ended_by, None, watch.memory_message or messages[watch.ended_by])
    status = _reap(pid)
    end_leftovers(cgroup, pid, context.logger)
    if watch.outcome is not None:
        return watch.outcome
    return Outcome(
        RunStatus.ERROR, None, f"job process ended without a result ({_describe(status)})"
    )


def _relay_until_done(
    pid: int, read_end: int, context: JobContext, cgroup: JobCgroup | None
) -> _Watch:
    """Read the child's reports until it closes the pipe, or a deadline, stop or limit."""
    deadline = None if context.timeout is None else time.monotonic() + context.timeout
    # The kernel enforces a cgroup's limit; otherwise the child's own memory is sampled.
    sampled = None if cgroup is not None and cgroup.memory_limited else context.memory_limit
    memory = TreeMemoryWatch(pid, sampled, forked=True)
    watch = _Watch()
    buffer = b""
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            if context.cancel.is_set():
                watch.ended_by = RunStatus.STOPPED
                return watch
            if deadline is not None and time.monotonic() >= deadline:
                watch.ended_by = RunStatus.TIMEOUT
                return watch
            watch.memory_message = memory.exceeded() or kernel_memory_message(
                cgroup, context.memory_limit
            )
            if watch.memory_message is not None:
                return watch
            context.heartbeat()
            ready, _, _ = select.select([pipe], [], [], _POLL_SECONDS)
            if not ready:
                continue
            chunk = pipe.read(65536)
            if not chunk:
                return watch  # the child closed its end: it is exiting
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                watch.outcome = _relay(line, context) or watch.outcome


def _relay(line: bytes, context: JobContext) -> Outcome | None:
    """Handle one report from the child; return the outcome when it is one."""
    try:
        message = json.loads(line)
    except ValueError:
        context.output.append(line.decode("utf-8", "replace"))
        return None
    kind = message.get("kind")
    if kind == "output":
        context.output.append(message["line"])
    elif kind == "log":  # already in the tail (as `output`); log it with the job's fields
        # Through the run's adapter: it scrubs secrets and keeps to the run's log budget.
        context.logger.log(message["level"], "%s", message["message"], extra={"in_tail": True})
    elif kind == "outcome":
        return Outcome(
            RunStatus(message["status"]),
            message["exit_code"],
            message["error"],
            message["summary"],
            message["retry"],
        )
    return None


def _reap(pid: int) -> int:
    """Wait for the child and return its raw wait status."""
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _describe(status: int) -> str:
    """'killed by signal 9 (SIGKILL)' or 'exit code 70'."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return f"killed by signal {number} ({signal.Signals(number).name})"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
