"""Forever mode: repeat runner passes, sleeping until the next work; signals only set flags."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from director_jobs import exit_codes
from director_jobs.runner import Runner

log = logging.getLogger("director_jobs.daemon")

# Longest sleep between passes: a queued `jobs trigger` is seen within this time.
MAX_IDLE_SECONDS = 2.0


def run_forever(runner: Runner) -> int:
    """Run passes until SIGTERM/SIGINT: the first lets the running job finish, a second stops it."""

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if runner.stop_requested.is_set():
            runner.cancel_current.set()
        runner.stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info("runner %s started", runner.identity.label)
    try:
        while not runner.stop_requested.is_set():
            wait = runner.run_once()
            wait = MAX_IDLE_SECONDS if wait is None else min(wait, MAX_IDLE_SECONDS)
            runner.clock.sleep(wait, runner.stop_requested)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("runner %s stopped", runner.identity.label)
    return exit_codes.OK
