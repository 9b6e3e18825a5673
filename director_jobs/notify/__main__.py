"""The delivery process: `python -m director_jobs.notify`, started by a runner that notes events.

A process of its own rather than a thread of the runner: sending never competes with the
runner for the GIL (each database call of a job would otherwise wait for the sender's
turn) and the daemon forks its jobs from a process without extra threads.

Its stdin is the runner's pipe: each byte means "new deliveries are committed", end of
input means "the runner stops: send what is due, then exit". It dies with the runner
(PR_SET_PDEATHSIG); whatever it was sending then stays `sending` and is not repeated.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.logs import setup_logging
from director_jobs.notify.worker import DRAIN_SECONDS, DeliveryWorker
from director_jobs.settings import load_settings

_PR_SET_PDEATHSIG = 1  # prctl(2)
EXIT_PARENT_GONE = 70  # EX_SOFTWARE: the runner died before this process was set up


def _die_with(parent: int) -> None:
    """SIGTERM this process when the runner dies; exit at once if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(EXIT_PARENT_GONE)


def _follow_pipe(workers: list[DeliveryWorker], done: threading.Event) -> None:
    """Wake the workers for each byte on stdin; set `done` at end of input."""
    fd = sys.stdin.fileno()
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            done.set()
            return
        for worker in workers:
            worker.wake()


def main() -> int:
    """Deliver until the runner closes the pipe (then drain what is due, bounded)."""
    parser = argparse.ArgumentParser(prog="python -m director_jobs.notify")
    parser.add_argument("--runner", required=True, help="the runner's host:pid label")
    parser.add_argument("--parent", type=int, required=True, help="the runner's pid")
    parser.add_argument("--log-level", type=int, default=logging.WARNING)
    parser.add_argument("--drain", type=float, default=DRAIN_SECONDS, help="seconds, at the end")
    options = parser.parse_args()
    _die_with(options.parent)
    # Ctrl-C and a terminal's hang-up are the runner's to handle: it closes the pipe, and
    # this process then gives back what it has not sent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # Not niced: a sender that holds SQLite's write lock and is then preempted for the
    # runner makes the runner sleep in its busy handler (a priority inversion measured
    # at ~1 ms a job by bench/bench_notify.py).
    setup_logging(options.log_level)
    # The database URL and the config file come through the environment: secrets stay
    # out of the process list.
    settings = load_settings(
        config_path=os.environ.get("DIRECTOR_JOBS_CONFIG") or None,
        database_url=os.environ.get("DIRECTOR_JOBS_DATABASE_URL") or None,
        timezone=None,
    )
    database = Database(settings.database_url)
    clock = SystemClock()
    # A thread per channel: a dead webhook never holds back mail or Icinga results.
    workers = [
        DeliveryWorker(channel, database.notifications, clock, options.runner)
        for channel in (settings.notify.channels if settings.notify else ())
    ]
    done = threading.Event()
    threading.Thread(target=_follow_pipe, args=(workers, done), daemon=True).start()
    for worker in workers:
        worker.start()
    done.wait()
    deadline = clock.monotonic() + options.drain
    for worker in workers:
        worker.drain()
    for worker in workers:
        worker.wait_drained(max(0.0, deadline - clock.monotonic()))
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
