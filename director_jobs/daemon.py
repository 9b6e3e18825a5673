"""Forever mode: wait for due work, run passes, survive outages, recycle cleanly; under systemd."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import FrameType

from sqlalchemy.exc import DBAPIError

from director_jobs import exit_codes
from director_jobs.cluster.registry import Registration
from director_jobs.cluster.wakeups import WakeupListener
from director_jobs.db.failures import first_line, is_outage
from director_jobs.errors import DatabaseUnavailable
from director_jobs.logs import MessageId, event_extra
from director_jobs.memory_guard import MemoryGuard
from director_jobs.runner import Runner
from director_jobs.systemd import Notifier, Watchdog, watchdog_interval

log = logging.getLogger("director_jobs.daemon")

# Longest sleep between two looks at the due index (--look-every): without a wake-up
# (MariaDB, a lost listener, a second runner on one SQLite host) a `jobs trigger`, a new
# job or a changed schedule is noticed within this time plus one pass. 1.5 s keeps a
# trigger that lands just after a look within 2 s. One indexed query each time.
TRIGGER_CHECK_SECONDS = 1.5
# Retry delays while the database is unreachable: 1, 2, 4, … up to 30 s.
OUTAGE_RETRY_MAX_SECONDS = 30.0
# The watchdog stops pinging when the main loop has shown no sign of life for this long.
STALL_LIMIT_SECONDS = 120.0


@dataclass(frozen=True)
class DaemonOptions:
    """What `jobs run --forever` can be told."""

    stop_timeout: float = 30.0
    max_memory_growth_mib: float | None = 100.0
    max_memory_mib: float | None = None
    max_lifetime_seconds: float | None = None
    look_seconds: float = TRIGGER_CHECK_SECONDS


class Daemon:
    """Owns the forever loop; signal handlers only set flags that the loop reads."""

    def __init__(
        self,
        connect: Callable[[], Runner],
        options: DaemonOptions,
        notifier: Notifier | None = None,
        reload: Callable[[Runner], None] | None = None,
    ) -> None:
        self.connect = connect
        self.options = options
        self.notifier = notifier or Notifier()
        self.reload = reload
        self.stop = threading.Event()
        # Set by a wake-up (a trigger, a new or changed job) and by a stop: ends a doze.
        self.wake = threading.Event()
        self.reload_requested = threading.Event()
        self.runner: Runner | None = None
        self.recycle_reason: str | None = None
        self.guard = MemoryGuard(
            options.max_memory_growth_mib, options.max_memory_mib, options.max_lifetime_seconds
        )
        self._outage_since: datetime | None = None
        self._signals = 0
        self._next: tuple[str, datetime] | None = None
        # The run the daemon was told of (on_job_start) and when it began, for STATUS.
        self._since: tuple[int, datetime] | None = None

    # -- signals ---------------------------------------------------------------------

    def _on_stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        """First signal: no new jobs, the running one gets the grace period. Second: stop it."""
        self._signals += 1
        self.stop.set()
        self.wake.set()
        runner = self.runner
        if runner is None:
            return
        runner.stop_requested.set()
        if self._signals == 1:
            timer = threading.Timer(self.options.stop_timeout, runner.cancel_current.set)
            timer.daemon = True
            timer.start()
        else:
            runner.cancel_current.set()

    def _on_hangup(self, _signum: int, _frame: FrameType | None) -> None:
        self.reload_requested.set()

    # -- the loop ----------------------------------------------------------------------

    def run(self) -> int:
        """Run until stopped or recycled; always exit 0 (systemd restarts after a recycle)."""
        previous = {
            signal.SIGTERM: signal.signal(signal.SIGTERM, self._on_stop_signal),
            signal.SIGINT: signal.signal(signal.SIGINT, self._on_stop_signal),
            signal.SIGHUP: signal.signal(signal.SIGHUP, self._on_hangup),
        }
        interval = watchdog_interval()
        watchdog = None
        if interval is not None:
            watchdog = Watchdog(self.notifier, interval, STALL_LIMIT_SECONDS, self.status_text)
            watchdog.start()
        watchdog_beat = watchdog.beat if watchdog is not None else (lambda: None)
        registration: Registration | None = None
        wakeups: WakeupListener | None = None
        try:
            runner = self._connect_until_ready(watchdog_beat)
            if runner is None:
                return exit_codes.OK
            # Listening before the runner shows in the registry: whoever sees it there and
            # triggers a job wakes it.
            wakeups = WakeupListener(runner.database.url, self.wake)
            wakeups.start()
            registration = self._register(runner, watchdog_beat)
            if registration is None:
                return exit_codes.OK

            def beat() -> None:
                watchdog_beat()
                registration.beat()  # rate-limited: one short UPDATE every 10 s

            runner.heartbeat = beat
            runner.on_job_start = self._job_started
            runner.after_job = self._job_ended
            self.guard.start(runner.clock.monotonic())
            self._next = self._read_next(runner)
            log.info(
                "runner %s ready; job containment: %s",
                runner.identity.label,
                runner.containment.describe(),
            )
            self.notifier.ready(self.status_text())
            self._loop(runner, beat)
        finally:
            if wakeups is not None:
                wakeups.stop()
            reason = self.recycle_reason or "stopped"
            self.notifier.stopping(f"stopping: {reason}")
            if watchdog is not None:
                watchdog.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if registration is not None:
                registration.stop()
            if self.runner is not None:
                self._store_kept_results(self.runner)
                self.runner.close()
                self.runner.database.dispose()
            log.info("runner stopped (%s)", reason)
        return exit_codes.OK

    def _connect_until_ready(self, beat: Callable[[], None]) -> Runner | None:
        """Open the database (and migrate), retrying while it is unreachable."""
        delay = 1.0
        while not self.stop.is_set():
            beat()
            try:
                self.runner = self.connect()
                # Leftovers of a runner that died on this host: close their runs now (a job
                # they hold stays claimed, so no pass would otherwise look at it).
                self.runner.recover_abandoned()
                if self.stop.is_set():
                    self.runner.stop_requested.set()
                self._outage_over()
                return self.runner
            except (DatabaseUnavailable, DBAPIError) as exc:
                if self.runner is not None:  # connected, then lost it: the next try makes another
                    self.runner.close()
                    self.runner.database.dispose()
                    self.runner = None
                self._outage(exc, delay)
            self._sleep(delay, beat)
            delay = min(delay * 2, OUTAGE_RETRY_MAX_SECONDS)
        return None

    def _register(self, runner: Runner, beat: Callable[[], None]) -> Registration | None:
        """Enter the runner registry, retrying while the database is unreachable."""
        registration = runner.registration("forever")
        delay = 1.0
        while not self.stop.is_set():
            try:
                registration.start()
                return registration
            except DBAPIError as exc:
                if not is_outage(exc):
                    raise
                self._outage(exc, delay)
            self._sleep(delay, beat)
            delay = min(delay * 2, OUTAGE_RETRY_MAX_SECONDS)
        return None

    def _loop(self, runner: Runner, beat: Callable[[], None]) -> None:
        """Run passes when work is due; between them, look at the due index every 1.5 s."""
        delay = 1.0
        while not self.stop.is_set():
            beat()
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                if self.reload is not None:
                    self.reload(runner)
            try:
                # First a result that an outage kept back: its job stays claimed until then,
                # and a claimed job is never reported due, so no pass would store it.
                runner.flush_unrecorded()
                self._next = runner.database.jobs.next_due()
                if self._next is not None and self._next[1] <= runner.clock.now():
                    runner.run_once()
                    self._next = runner.database.jobs.next_due()
                self._outage_over()
                delay = 1.0
            except Exception as exc:  # the loop outlives any one failure
                if isinstance(exc, DBAPIError) and is_outage(exc):
                    self._outage(exc, delay)
                else:
                    # Not the database being away: a statement it refused, or our own bug.
                    # Jobs contain their own failures, so this is rare; keep going slowly.
                    log.error("main loop failed, retrying in %.0f s", delay, exc_info=True)
                self._sleep(delay, beat)
                delay = min(delay * 2, OUTAGE_RETRY_MAX_SECONDS)
                continue
            self._check_memory()
            if self.stop.is_set():
                break
            self.notifier.refresh(self.status_text)
            wait = self.options.look_seconds
            if self._next is not None:
                wait = min(wait, max(0.0, (self._next[1] - runner.clock.now()).total_seconds()))
            self._doze(wait, beat)

    @staticmethod
    def _store_kept_results(runner: Runner) -> None:
        """On the way out, one more try to store results an outage kept back."""
        try:
            runner.flush_unrecorded()
        except DBAPIError:
            log.warning(
                "the database is still unavailable: %d run results are lost; the next runner "
                "marks those runs abandoned",
                runner.unrecorded_count,
            )

    @staticmethod
    def _read_next(runner: Runner) -> tuple[str, datetime] | None:
        """The first due job for STATUS, or None when the database does not answer now."""
        try:
            return runner.database.jobs.next_due()
        except DBAPIError:
            return None

    def _sleep(self, seconds: float, beat: Callable[[], None]) -> None:
        """Wait on the stop flag in slices short enough to keep the heartbeat going."""
        remaining = seconds
        while remaining > 0 and not self.stop.is_set():
            step = min(remaining, 1.0)
            self.stop.wait(step)
            remaining -= step
            beat()

    def _doze(self, seconds: float, beat: Callable[[], None]) -> None:
        """Like _sleep, but a wake-up (or a stop) ends it at once."""
        remaining = seconds
        while remaining > 0 and not self.stop.is_set():
            step = min(remaining, 1.0)
            woken = self.wake.wait(step)
            remaining -= step
            beat()
            if woken:
                self.wake.clear()  # before the next look: a later wake-up sets it again
                return

    # -- recycling, outages, status ------------------------------------------------------

    def _job_started(self) -> None:
        """A job starts: STATUS says so at once (`running NAME (run N) since …; next: …`)."""
        runner = self.runner
        if runner is None or runner.current is None:
            return
        self._since = (runner.current.run_id, runner.clock.now())
        if self.notifier.enabled:
            # The running job is claimed, so this is the one after it.
            self._next = self._read_next(runner)
            self.notifier.refresh(self.status_text)

    def _job_ended(self) -> None:
        """A job ended: recycle if it is time, and STATUS back to idle at once."""
        self._check_memory()
        runner = self.runner
        if runner is not None and self.notifier.enabled:
            self._next = self._read_next(runner)
            self.notifier.refresh(self.status_text)

    def _check_memory(self) -> None:
        """After each job and each pass: exit cleanly when too big or too old."""
        if self.recycle_reason is not None or self.runner is None:
            return
        reason = self.guard.reason_to_recycle(self.runner.clock.monotonic())
        if reason is not None:
            self.recycle_reason = f"recycling: {reason}"
            log.warning(
                "%s; exiting with 0 so that systemd starts a fresh process",
                self.recycle_reason,
                extra=event_extra(MessageId.RECYCLE),
            )
            self.stop.set()
            self.wake.set()
            self.runner.stop_requested.set()

    def _outage(self, exc: Exception, retry_in: float) -> None:
        """Log an outage once, and keep STATUS current while it lasts."""
        if self._outage_since is None:
            self._outage_since = datetime.now().astimezone()
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if isinstance(exc, DBAPIError):
                message = first_line(exc)
            log.error(
                "database unavailable: %s; retrying with back-off",
                message,
                extra=event_extra(MessageId.OUTAGE_BEGAN),
            )
        self.notifier.status(
            f"database unavailable since {self._outage_since:%H:%M:%S}; retrying in {retry_in:.0f}s"
        )

    def _outage_over(self) -> None:
        if self._outage_since is not None:
            log.warning(
                "database is reachable again (unavailable since %s)",
                f"{self._outage_since:%H:%M:%S}",
                extra=event_extra(MessageId.OUTAGE_ENDED),
            )
            self._outage_since = None

    def status_text(self) -> str:
        """`running NAME (run N) since 12:29:58 UTC; next: …` or `idle; next: NAME at …`."""
        current = self.runner.current if self.runner is not None else None
        upcoming = self._next
        next_text = f"{upcoming[0]} at {upcoming[1]:%Y-%m-%d %H:%M:%S} UTC" if upcoming else None
        if current is not None:
            if self.stop.is_set():  # a first SIGTERM: the job has its grace period
                return f"stopping: waiting for {current.job_name} (run {current.run_id})"
            since = self._since
            if since is not None and since[0] == current.run_id:  # once on_job_start said so
                text = f"running {current.job_name} (run {current.run_id})"
                text += f" since {since[1]:%H:%M:%S} UTC"
                reported = current.output.progress if current.output else None
                if reported is not None:
                    text += f": {reported.text()}"
                return f"{text}; next: {next_text}" if next_text else text
            # Not announced yet (the instant before on_job_start): the text before it.
        if self._outage_since is not None:
            return f"database unavailable since {self._outage_since:%H:%M:%S}"
        if next_text is None:
            return "idle; no job scheduled"
        return f"idle; next: {next_text}"
