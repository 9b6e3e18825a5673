"""The runner: one pass runs every pending job in turn; forever mode repeats passes."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType
from typing import Any, Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from director_jobs.clock import Clock
from director_jobs.cluster.live_output import LiveOutput
from director_jobs.cluster.registry import Registration
from director_jobs.cluster.stop_requests import StopRequestWatch
from director_jobs.db.database import Database
from director_jobs.db.failures import first_line, is_outage
from director_jobs.errors import DirectorJobsError, JobAlreadyRunning
from director_jobs.execution import preconditions
from director_jobs.execution.cgroups import JobCgroup, kill_cgroups
from director_jobs.execution.child import execute_in_child
from director_jobs.execution.containment import Containment
from director_jobs.execution.inprocess import Outcome, RunLogAdapter, execute_in_process
from director_jobs.execution.isolation import Isolation
from director_jobs.execution.process_tree import kill_session, kill_tree
from director_jobs.execution.reaper import Reaper
from director_jobs.identity import RunnerIdentity, is_alive, parse_label, process_start
from director_jobs.job_types.base import JobContext
from director_jobs.job_types.registry import Registry
from director_jobs.logs import MessageId, job_extra
from director_jobs.model import Job, RunEvent, RunStatus, Trigger
from director_jobs.output import OutputTail
from director_jobs.progress import Progress
from director_jobs.schedule import IntervalSchedule, Schedule, missed_slots, schedule_of
from director_jobs.secrets import Scrubber, secret_values

log = logging.getLogger("director_jobs.runner")

# Due jobs read per query; a pass reads again until nothing is left.
BATCH_SIZE = 100
# A job that cannot even be started (its stored data trips the runner) is tried again
# after this long, so that it neither loops every pass nor is forgotten.
UNSTARTABLE_RETRY_SECONDS = 300


class ActivePeriod(Protocol):
    """The part of a time period the runner needs."""

    def contains(self, instant: datetime) -> bool:
        """True when `instant` is inside the period."""

    def next_transition(self, after: datetime) -> datetime | None:
        """The next instant after `after` where `contains` changes."""


class PeriodSource(Protocol):
    """Looks up time periods by name (NotFound when there is none)."""

    def period(self, name: str) -> ActivePeriod:
        """The period called `name`."""

    def refresh(self) -> None:
        """Re-read definitions at the next look-up (called once per pass)."""


class RunEvents(Protocol):
    """Hears of run starts and ends (notifications), inside the transactions that record them."""

    def wants_start(self, job: Job) -> bool:
        """True when someone is to be told that `job` starts (costs a transaction)."""

    def record(self, connection: Any, event: RunEvent) -> None:
        """Note `event` in the caller's transaction; delivered later, off the runner's path."""

    def settled(self) -> None:
        """The transaction of the last record() has committed (its events may go out)."""

    def inherited(self) -> tuple[int, ...]:
        """Descriptors that a forked job must close (the pipe to the sender)."""

    def close(self) -> None:
        """The runner stops: send what is due now, within a bound, then let go."""


class NoEvents:
    """Nobody listens: the default."""

    def wants_start(self, job: Job) -> bool:
        """Never."""
        return False

    def record(self, connection: Any, event: RunEvent) -> None:
        """Nothing to note."""

    def settled(self) -> None:
        """Nothing to send."""

    def inherited(self) -> tuple[int, ...]:
        """None."""
        return ()

    def close(self) -> None:
        """Nothing to let go of."""


@dataclass(frozen=True)
class CurrentRun:
    """The job that runs right now, for STATUS lines."""

    job_name: str
    run_id: int
    started_monotonic: float
    output: OutputTail | None = None  # its newest progress is in STATUS= too


def _each(*hooks: Callable[[], None]) -> None:
    """Call the hooks of a job's tick in turn (heartbeat, stop-request look, output save)."""
    for hook in hooks:
        hook()


def _nothing() -> None:
    """The default hook."""


@dataclass(frozen=True)
class FinishedRun:
    """One attempt that has ended, with everything its record needs."""

    job: Job
    run_id: int
    trigger: Trigger
    attempt: int
    started: datetime
    finished: datetime
    duration: float
    outcome: Outcome
    output: str
    output_lines: int  # lines appended in all (the output keeps only the last ones)
    progress: Progress | None = None  # the newest it reported: where a failed run stopped


@dataclass
class PassReport:
    """What one pass did."""

    statuses: list[tuple[str, RunStatus]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many runs failed."""
        return sum(1 for _, status in self.statuses if status.failed)


class Runner:
    """Decides what is pending, claims it, runs it and records it, one job at a time."""

    def __init__(
        self,
        database: Database,
        registry: Registry,
        clock: Clock,
        *,
        default_timezone: str,
        periods: PeriodSource | None = None,
        identity: RunnerIdentity | None = None,
        isolation: Isolation = Isolation.BY_TYPE,
        containment: Containment | None = None,
    ) -> None:
        self.database = database
        self.registry = registry
        self.clock = clock
        self.default_timezone = default_timezone
        self.periods = periods
        self.identity = identity or RunnerIdentity.current()
        self.isolation = isolation
        self.containment = containment if containment is not None else Containment.detect()
        # Kills the running job if this process dies without getting to do it itself.
        self.reaper = Reaper()
        self.stop_requested = threading.Event()
        self.cancel_current = threading.Event()
        # The daemon's hooks: signs of life while a job runs, a job's start (`current` is
        # set, for STATUS) and a check after each job.
        self.heartbeat: Callable[[], None] = _nothing
        self.on_job_start: Callable[[], None] = _nothing
        self.after_job: Callable[[], None] = _nothing
        self.current: CurrentRun | None = None
        # Notifications: set by the CLI when the configuration names channels.
        self.events: RunEvents = NoEvents()
        self.force = False  # run_now(force=True): manual runs past the safety limits
        # Results that could not be stored (database outage), written at the next pass.
        self._unrecorded: list[Callable[[], None]] = []

    # -- scheduling --------------------------------------------------------------------

    def schedule_for(self, job: Job) -> Schedule | None:
        """The job's schedule (interval, cron, or None for manual-only)."""
        spec = job.spec
        return schedule_of(spec.interval, spec.cron, spec.timezone, self.default_timezone)

    def run_once(self, report: PassReport | None = None) -> float | None:
        """Run every job pending now, oldest due first; return seconds until the next work.

        A job runs at most once per pass, except retries that come due during it, so a
        job whose interval is shorter than its run time (or that triggers itself) cannot
        keep a pass going forever; a trigger that arrived while it ran waits for the next.
        """
        report = report if report is not None else PassReport()
        self.flush_unrecorded()
        if self.periods is not None:
            self.periods.refresh()  # definitions may have changed since the last pass
        self.recover_abandoned()
        pass_started = self.clock.now()
        started: set[int] = set()
        while not self.stop_requested.is_set():
            now = self.clock.now()
            batch = [
                job
                for job in self.database.jobs.due(now, BATCH_SIZE)
                if job.pending_trigger is Trigger.RETRY
                or (job.id not in started and job.pending_trigger is not None)
                or (job.next_due_at is not None and job.next_due_at <= pass_started)
            ]
            if not batch:
                break
            for job in batch:
                if self.stop_requested.is_set():
                    break
                started.add(job.id)
                self._start_contained(job, report)
        return self.seconds_until_next_work()

    def _start_contained(self, job: Job, report: PassReport) -> None:
        """Start one due job; whatever its data does to us fails that job, not the pass.

        Only an outage propagates (the daemon waits for the database). Anything else
        raised before the job could be claimed (a stored schedule or period that no
        longer parses, a statement refused for the job's data) is recorded as an error
        run and the job is looked at again after UNSTARTABLE_RETRY_SECONDS.
        """
        try:
            self._start_if_allowed(job, report)
        except DBAPIError as exc:
            if is_outage(exc):
                raise
            self._fail_unstartable(job, f"the database refused it: {first_line(exc)}", report)
        except Exception as exc:
            log.debug("cannot start %s", job.name, exc_info=True)
            self._fail_unstartable(job, f"{type(exc).__name__}: {exc}", report)

    def _fail_unstartable(self, job: Job, reason: str, report: PassReport) -> None:
        """Record that `job` could not be started, and postpone it (never loop on it)."""
        now = self.clock.now()
        error = f"could not start the job: {reason}"
        log.error("job %s: %s", job.name, error, extra=job_extra(job.name, job.spec.type, None))
        retry_at = now + timedelta(seconds=UNSTARTABLE_RETRY_SECONDS)
        with self.database.engine.begin() as connection:
            if not self.database.jobs.postpone_unclaimed(connection, job.id, retry_at):
                return  # another runner claimed it meanwhile: theirs to run
            # The postponement dropped any trigger (one that came after our read too): the
            # run it queued is the error run.
            if self.database.runs.close_queued(
                connection, job.name, status=RunStatus.ERROR, error=error, now=now, started=True
            ):
                report.statuses.append((job.name, RunStatus.ERROR))
                return
            run_id = self.database.runs.record(
                connection,
                job_id=job.id,
                job_name=job.name,
                job_type=job.spec.type,
                status=RunStatus.ERROR.value,
                trigger=(job.pending_trigger or Trigger.SCHEDULE).value,
                attempt=job.attempt + 1,
                scheduled_for=job.next_due_at,
                started_at=now,
                finished_at=now,
                duration_seconds=0.0,
                error=error,
                runner=self.identity.label,
            )
            self.events.record(
                connection,
                RunEvent(
                    event="finished",
                    run_id=run_id,
                    job_name=job.name,
                    job_type=job.spec.type,
                    tags=job.spec.tags,
                    status=RunStatus.ERROR,
                    trigger=job.pending_trigger or Trigger.SCHEDULE,
                    attempt=job.attempt + 1,
                    started_at=now,
                    finished_at=now,
                    duration=0.0,
                    error=error,
                ),
            )
        self.events.settled()
        report.statuses.append((job.name, RunStatus.ERROR))

    def seconds_until_next_work(self) -> float | None:
        """Seconds until the earliest due job (0 when one is due now), or None when none is."""
        upcoming = self.database.jobs.next_due()
        if upcoming is None:
            return None
        return max(0.0, (upcoming[1] - self.clock.now()).total_seconds())

    def _start_if_allowed(self, job: Job, report: PassReport) -> None:
        """Run a due job unless its time period is closed (then wake when it opens)."""
        now = self.clock.now()
        trigger = job.pending_trigger or Trigger.SCHEDULE
        if job.spec.timeperiod and trigger is not Trigger.MANUAL:
            opens = self._period_opens(job, now)
            if opens is not None:
                log.info(
                    "job %s is due but outside time period %s; waiting until %s",
                    job.name,
                    job.spec.timeperiod,
                    opens.isoformat(),
                    extra=job_extra(job.name, job.spec.type, None),
                )
                self.database.jobs.defer(job, opens)
                return
        attempt = job.attempt + 1
        status = self.execute(job, trigger=trigger, attempt=attempt, require_due=True)
        if status is not None:
            report.statuses.append((job.name, status))

    def _period_opens(self, job: Job, now: datetime) -> datetime | None:
        """None when the job may start now; otherwise when its period next opens.

        A period that never opens again (or an unknown period) returns `now + 1 day`,
        so that the job is looked at again tomorrow rather than at every pass.
        """
        if self.periods is None or job.spec.timeperiod is None:
            return None
        try:
            period = self.periods.period(job.spec.timeperiod)
        except DirectorJobsError as exc:
            log.error("job %s: %s", job.name, exc, extra=job_extra(job.name, job.spec.type, None))
            return now + timedelta(days=1)
        if period.contains(now):
            return None
        return period.next_transition(now) or now + timedelta(days=1)

    # -- one attempt -------------------------------------------------------------------

    def execute(
        self, job: Job, *, trigger: Trigger, attempt: int, require_due: bool
    ) -> RunStatus | None:
        """Claim `job`, run it, record the run and the next due time; None if not claimed."""
        started = self.clock.now()
        run_id = self.database.jobs.claim(
            job,
            runner=self.identity.label,
            runner_process_start=self.identity.process_start,
            now=started,
            trigger=trigger,
            attempt=attempt,
            # A queued trigger's due time is when it was asked for; `jobs run NAME` has none.
            scheduled_for=job.next_due_at if trigger is not Trigger.MANUAL or require_due else None,
            require_due=require_due,
            also=(lambda c: self._record_skipped(c, job, started))
            if trigger is Trigger.SCHEDULE
            else None,
        )
        if run_id is None:
            if not require_due:
                raise JobAlreadyRunning(f"job {job.name!r} is already running elsewhere")
            return None
        unreadable = None
        if require_due and trigger is Trigger.MANUAL:
            try:
                job = self._with_trigger_parameters(job, run_id)
            except Exception as exc:  # the run must end with a record, not stay claimed
                unreadable = f"the trigger's parameters could not be read: {exc}"
        extra = job_extra(job.name, job.spec.type, run_id)
        log.info(
            "starting job %s (run %d, %s, attempt %d)",
            job.name,
            run_id,
            trigger,
            attempt,
            extra=job_extra(
                job.name,
                job.spec.type,
                run_id,
                message_id=MessageId.RUN_STARTED,
                trigger=trigger,
                attempt=attempt,
            ),
        )
        # Checked before the start is announced: a skipped start sends no "started" event.
        blocked = unmet_precondition(job)
        if self.events.wants_start(job) and blocked is None:
            self._note_start(job, run_id, trigger, attempt, started)
        output = OutputTail(scrub=self._scrubber(job))
        started_monotonic = self.clock.monotonic()
        self.current = CurrentRun(job.name, run_id, started_monotonic, output)
        stop_watch = StopRequestWatch(self.database, run_id, self.cancel_current)
        try:
            self.on_job_start()
            if unreadable is not None:
                outcome = Outcome(RunStatus.ERROR, None, unreadable)
            elif blocked is not None:
                output.append(f"start skipped: {blocked}")
                outcome = Outcome(RunStatus.SKIPPED, None, blocked)
            else:
                outcome = self._attempt(job, run_id, output, stop_watch)
        except Exception as exc:  # our own bug while running one job must not stop the runner
            log.exception("run %d of %s failed inside the runner", run_id, job.name, extra=extra)
            outcome = Outcome(RunStatus.ERROR, None, f"runner error: {type(exc).__name__}: {exc}")
        finally:
            self.current = None
            # Cleared after the job, not before it: a stop that came just before it began
            # still stops it (and no pass starts another once a stop was asked for).
            if not self.stop_requested.is_set():
                self.cancel_current.clear()
        if outcome.status is RunStatus.STOPPED and stop_watch.stopped_by is not None:
            outcome = dataclasses.replace(outcome, error=f"stopped by {stop_watch.stopped_by}")
            log.warning("run %d of %s stopped by %s", run_id, job.name, stop_watch.stopped_by)
        finished = FinishedRun(
            job,
            run_id,
            trigger,
            attempt,
            started,
            self.clock.now(),
            self.clock.monotonic() - started_monotonic,
            outcome,
            *output.snapshot(),
            output.progress,
        )
        if outcome.error:
            finished = dataclasses.replace(
                finished, outcome=dataclasses.replace(outcome, error=output.scrub(outcome.error))
            )
        outcome = self._store(finished)
        succeeded = outcome.status is RunStatus.SUCCESS
        skipped = outcome.status is RunStatus.SKIPPED  # a precondition did not hold: no failure
        ending = MessageId.RUN_SKIPPED if skipped else MessageId.RUN_FAILED
        log.log(
            logging.INFO if succeeded or skipped else logging.ERROR,
            "job %s finished: %s in %.2f s%s",
            job.name,
            outcome.status,
            finished.duration,
            f": {outcome.error}" if outcome.error else "",
            extra=job_extra(
                job.name,
                job.spec.type,
                run_id,
                outcome.status.value,
                message_id=MessageId.RUN_SUCCEEDED if succeeded else ending,
                trigger=trigger,
                attempt=attempt,
                duration=finished.duration,
                exit_code=outcome.exit_code,
            ),
        )
        self.after_job()
        return outcome.status

    def _note_start(
        self, job: Job, run_id: int, trigger: Trigger, attempt: int, started: datetime
    ) -> None:
        """Tell the listeners that a run began; a refusal is logged, never fails the run."""
        event = RunEvent(
            event="started",
            run_id=run_id,
            job_name=job.name,
            job_type=job.spec.type,
            tags=job.spec.tags,
            status=RunStatus.RUNNING,
            trigger=trigger,
            attempt=attempt,
            started_at=started,
        )
        try:
            with self.database.engine.begin() as connection:
                self.events.record(connection, event)
            self.events.settled()
        except DBAPIError as exc:
            log.warning("run %d: its start notification is lost: %s", run_id, first_line(exc))
        except Exception:  # our bug must not leave the run claimed without a record
            log.exception("run %d: its start notification is lost", run_id)

    def _with_trigger_parameters(self, job: Job, run_id: int) -> Job:
        """The job with the parameters its trigger gave this run merged over its own.

        A null value asks for the type's default, as in a stored definition. They were
        validated when the trigger was accepted and are validated again as the job starts.
        """
        run = self.database.runs.get(run_id)
        if run is None or not run.parameters:
            return job
        merged = {**job.spec.parameters, **run.parameters}
        parameters = {key: value for key, value in merged.items() if value is not None}
        return dataclasses.replace(job, spec=dataclasses.replace(job.spec, parameters=parameters))

    def _scrubber(self, job: Job) -> Scrubber:
        """What this job's output and errors must never show: the secrets in its parameters
        (a command's PGPASSWORD) and the database's password."""
        secrets = secret_values(job.spec.parameters)
        password = make_url(self.database.url).password
        if password:
            secrets.add(str(password))
        return Scrubber(secrets)

    def _store(self, finished: FinishedRun) -> Outcome:
        """Record a finished run; return the outcome as stored.

        An outage keeps the result (the job stays claimed by us) for the next pass and
        raises. A statement the database refuses is no outage: the run is stored as an
        error naming the reason, without its output, and the runner goes on. (Text is
        made storable before it is sent, so that is a last resort.)
        """
        try:
            self._record(finished)
            return finished.outcome
        except DBAPIError as exc:
            if is_outage(exc):
                self._unrecorded.append(functools.partial(self._record, finished))
                raise
            reason = first_line(exc)
        except Exception as exc:  # a value the driver cannot even bind (e.g. a huge integer)
            reason = f"{type(exc).__name__}: {exc}"
        detail = f": {finished.outcome.error}" if finished.outcome.error else ""
        error = f"the result of this run could not be stored ({reason[:500]}){detail}"
        log.error("run %d of %s: %s", finished.run_id, finished.job.name, error)
        fallback = dataclasses.replace(
            finished,
            outcome=Outcome(RunStatus.ERROR, None, error),
            output="[output not kept: it could not be stored]",
            output_lines=1,
        )
        try:
            self._record(fallback)
        except Exception:  # the database refuses even that: say so loudly, keep running
            log.critical(
                "run %d of %s: not even its error could be stored; the job stays claimed by "
                "this runner until it restarts",
                finished.run_id,
                finished.job.name,
                exc_info=True,
            )
        return fallback.outcome

    @property
    def unrecorded_count(self) -> int:
        """How many results wait for the database."""
        return len(self._unrecorded)

    def flush_unrecorded(self) -> None:
        """Store results that an outage kept from being written (oldest first)."""
        while self._unrecorded:
            self._unrecorded[0]()
            self._unrecorded.pop(0)
            log.info("stored a run result that was kept during a database outage")

    def _attempt(
        self, job: Job, run_id: int, output: OutputTail, stop_watch: StopRequestWatch
    ) -> Outcome:
        """Resolve the type, validate the stored parameters, run it; never raises."""
        logger = RunLogAdapter(
            logging.getLogger(f"director_jobs.job.{job.spec.type}"),
            job_extra(job.name, job.spec.type, run_id),
            output,
        )
        try:
            job_type, params = self.registry.validated(job.spec.type, job.spec.parameters)
        except DirectorJobsError as exc:
            return Outcome(RunStatus.ERROR, None, str(exc))
        in_child = self.isolation.in_child(job_type)
        live_output = LiveOutput(self.database, run_id, output)  # for `jobs logs --follow`
        # A cgroup for whatever process the job gets: its forked child, or its command.
        cgroup = None
        if in_child or job_type.starts_own_process:
            cgroup = self.containment.open(run_id, job.spec.memory_limit)
            # The watcher runs, and knows the cgroup, before the job's process exists: a
            # runner killed while it starts the job leaves nothing unwatched (the process
            # group follows in _note_process, microseconds after the fork).
            self._watch(cgroup, None)
        context = JobContext(
            job_name=job.name,
            run_id=run_id,
            logger=logger,
            clock=self.clock,
            output=output,
            timeout=job.spec.timeout,
            cancel=self.cancel_current,
            database_url=self.database.url,
            heartbeat=functools.partial(_each, self.heartbeat, stop_watch.look, live_output.save),
            memory_limit=job.spec.memory_limit,
            on_process=functools.partial(self._note_process, run_id, cgroup),
            cgroup=None if in_child else cgroup,
            force=self.force,
        )
        try:
            if in_child:
                reaper = (self.reaper.write_end,) if self.reaper.write_end is not None else ()
                fds = (*reaper, *self.events.inherited())
                return execute_in_child(
                    job_type, params, context, cgroup=cgroup, close_in_child=fds
                )
            return execute_in_process(job_type, params, context)
        finally:
            logger.note_dropped()
            self.reaper.forget()
            if cgroup is not None:
                cgroup.remove()

    def _record(self, finished: FinishedRun) -> None:
        """Store the outcome and the job's next due time, in one transaction."""
        job, outcome = finished.job, finished.outcome
        next_due, next_attempt, pending = self.after_attempt(
            job,
            finished.started,
            finished.finished,
            outcome.status,
            finished.attempt,
            finished.trigger,
            may_retry=outcome.retry,
        )
        with self.database.engine.begin() as connection:
            self.database.runs.finish(
                connection,
                finished.run_id,
                status=outcome.status,
                finished_at=finished.finished,
                duration=finished.duration,
                exit_code=outcome.exit_code,
                error=outcome.error,
                output=finished.output,
                output_lines=finished.output_lines,
                progress=finished.progress,
            )
            self.database.jobs.release(
                connection,
                job.id,
                finished.run_id,
                next_due_at=next_due,
                attempt=next_attempt,
                pending_trigger=pending,
                now=finished.finished,
            )
            self.events.record(
                connection,
                RunEvent(
                    event="finished",
                    run_id=finished.run_id,
                    job_name=job.name,
                    job_type=job.spec.type,
                    tags=job.spec.tags,
                    status=outcome.status,
                    trigger=finished.trigger,
                    attempt=finished.attempt,
                    started_at=finished.started,
                    finished_at=finished.finished,
                    duration=finished.duration,
                    exit_code=outcome.exit_code,
                    error=outcome.error,
                    last_line=last_line(finished.output),
                    final=pending is not Trigger.RETRY,
                ),
            )
        self.events.settled()

    def after_attempt(
        self,
        job: Job,
        started: datetime,
        finished: datetime,
        status: RunStatus,
        attempt: int,
        trigger: Trigger,
        *,
        may_retry: bool = True,
    ) -> tuple[datetime | None, int, Trigger | None]:
        """Next due time, retry counter and pending trigger after an attempt.

        A failed scheduled attempt with retries left is retried after
        `retry_delay * 2**n` (n = retries done so far: 60 s, 120 s, 240 s, …); otherwise
        the schedule decides, counted from the attempt's start (Director's interval
        rule). Manual runs are never retried: someone is watching them; nor failures
        the job type says a retry cannot mend (`may_retry` False).
        """
        retries_done = attempt - 1
        retry_left = retries_done < job.spec.retries
        if status.failed and retry_left and not may_retry and trigger is not Trigger.MANUAL:
            log.info(
                "job %s: not retried: its type says a retry cannot help this failure", job.name
            )
        if status.failed and may_retry and trigger is not Trigger.MANUAL and retry_left:
            delay = job.spec.retry_delay * (2**retries_done)
            return finished + timedelta(seconds=delay), attempt, Trigger.RETRY
        schedule = self.schedule_for(job)
        return (schedule.next_after(started) if schedule else None), 0, None

    def _record_skipped(self, connection: Any, job: Job, started: datetime) -> None:
        """Write one `skipped` run summarising the slots that passed while nothing ran."""
        schedule = self.schedule_for(job)
        if schedule is None or job.next_due_at is None:
            return
        if job.last_attempt_at is None and isinstance(schedule, IntervalSchedule):
            return  # a new interval job is due "at once", not on a grid: no slot has passed
        missed = missed_slots(schedule, job.next_due_at, started)
        if missed is None:
            return
        count = f"more than {missed.count}" if missed.more else str(missed.count)
        self.database.runs.record(
            connection,
            job_id=job.id,
            job_name=job.name,
            job_type=job.spec.type,
            status=RunStatus.SKIPPED.value,
            trigger=Trigger.SCHEDULE.value,
            attempt=0,
            scheduled_for=missed.first,
            error=(
                f"{count} slot(s) from {missed.first.isoformat()} to {missed.last.isoformat()} "
                f"passed while no runner ran; ran once at {started.isoformat()}"
            ),
            runner=self.identity.label,
        )

    def _watch(self, cgroup: JobCgroup | None, pid: int | None) -> None:
        """Tell the reaper what to kill should this runner die now (best effort)."""
        try:
            self.reaper.watch(str(cgroup.path) if cgroup else None, pid)
        except OSError as exc:  # the job runs on; only a crash of this runner is then uncovered
            log.warning("the watcher for runner crashes cannot start: %s", exc)

    def _note_process(self, run_id: int, cgroup: JobCgroup | None, pid: int) -> None:
        """Watch the job's process, and store it with its run for crash recovery.

        The reaper kills it (and its cgroup) should this runner die; the stored pid and
        cgroups let the next runner on this host find what is left (best effort).
        """
        self._watch(cgroup, pid)
        folders = [str(folder) for folder in cgroup.folders] if cgroup else []
        try:
            self.database.runs.set_job_process(run_id, pid, process_start(pid), folders)
        except DBAPIError as exc:
            log.warning("could not store the process of run %d: %s", run_id, first_line(exc))

    # -- crash recovery --------------------------------------------------------------

    def recover_abandoned(self) -> list[int]:
        """Mark runs of dead runners on this host `abandoned` and make their jobs due again."""
        recovered = []
        for row in self.database.runs.running():
            run = row.run
            if run.runner == self.identity.label:
                continue
            parsed = parse_label(run.runner or "")
            if (
                parsed is None
                or is_alive(parsed[0], parsed[1], row.runner_process_start) is not False
            ):
                continue
            if row.job_cgroups:
                killed = kill_cgroups(row.job_cgroups)
                if killed:
                    log.warning(
                        "run %d: killed %s left behind by its dead runner's job",
                        run.id,
                        ", ".join(f"process {p}" for p in killed),
                    )
            self._kill_leftovers(run.id, row.job_pid, row.job_process_start)
            self._abandon(
                run.id, row.job_id, run.runner or "?", run.attempt, run.started_at, run.trigger
            )
            recovered.append(run.id)
        return recovered

    @staticmethod
    def _kill_leftovers(run_id: int, pid: int | None, started: float | None) -> None:
        """Stop what a dead runner's job left running, and nothing else.

        Each job process leads a session of its own. When it still runs (same start time),
        its tree goes. When it is gone, the parent-death signal killed it but not always
        its children; they keep its session id, and the kernel gives no new process a pid
        that a live session still uses, so the session's members are the job's leftovers.
        A pid in use by another process (a different start time) is left alone.
        """
        if pid is None or started is None:
            return
        now_started = process_start(pid)
        if now_started == started:
            log.warning("run %d: killing process %d left behind by its dead runner", run_id, pid)
            kill_tree(pid)
        elif now_started is None:
            killed = kill_session(pid)
            if killed:
                log.warning(
                    "run %d: killed %s left behind by its dead runner's job",
                    run_id,
                    ", ".join(f"process {p}" for p in killed),
                )

    def _abandon(
        self,
        run_id: int,
        job_id: int | None,
        runner: str,
        attempt: int,
        started: datetime | None,
        trigger: Trigger,
    ) -> None:
        """Close one orphaned run and release its job by the usual retry/schedule rules."""
        now = self.clock.now()
        jobs = self.database.jobs.by_ids([job_id]) if job_id is not None else {}
        duration = (now - started).total_seconds() if started else 0.0
        error = f"runner {runner} is gone (killed or crashed) while this run was in progress"
        with self.database.engine.begin() as connection:
            self.database.runs.finish(
                connection,
                run_id,
                status=RunStatus.ABANDONED,
                finished_at=now,
                duration=duration,
                exit_code=None,
                error=error,
                output=None,  # keep what the dead runner saved of the output
            )
            job = jobs.get(job_id) if job_id is not None else None
            if job is not None:
                next_due, next_attempt, pending = self.after_attempt(
                    job, started or now, now, RunStatus.ABANDONED, attempt, trigger
                )
                self.database.jobs.release(
                    connection,
                    job.id,
                    run_id,
                    next_due_at=next_due,
                    attempt=next_attempt,
                    pending_trigger=pending,
                    now=now,
                )
                self.events.record(
                    connection,
                    RunEvent(
                        event="finished",
                        run_id=run_id,
                        job_name=job.name,
                        job_type=job.spec.type,
                        tags=job.spec.tags,
                        status=RunStatus.ABANDONED,
                        trigger=trigger,
                        attempt=attempt,
                        started_at=started,
                        finished_at=now,
                        duration=duration,
                        error=error,
                        final=pending is not Trigger.RETRY,
                    ),
                )
        self.events.settled()
        log.warning("run %d of a dead runner %s marked abandoned", run_id, runner)

    def registration(self, mode: str) -> Registration:
        """This runner's entry for the runner registry (`forever` or `one-shot`)."""
        return Registration(
            self.database.runners,
            self.identity,
            self.clock,
            mode=mode,
            containment=self.containment.describe(),
        )

    def close(self) -> None:
        """Let go of what the runner holds besides the database (reaper, notifications)."""
        self.reaper.close()
        self.events.close()

    # -- manual runs ---------------------------------------------------------------------

    def run_now(self, names: Iterable[str], *, force: bool = False) -> PassReport:
        """Run the named jobs in the foreground, ignoring schedule and time period.

        `force` lets them pass their safety limits (shrinking imports, large purges) once.
        """
        self.force = force
        report = PassReport()
        self.recover_abandoned()
        for name in names:
            if self.stop_requested.is_set():
                break
            job = self.database.jobs.get(name)
            status = self.execute(job, trigger=Trigger.MANUAL, attempt=1, require_due=False)
            assert status is not None
            report.statuses.append((name, status))
        return report


def unmet_precondition(job: Job) -> str | None:
    """Why the job's preconditions forbid this start (None: it has none, or they hold)."""
    if not job.spec.requires_command and job.spec.requires_path is None:
        return None
    try:
        return preconditions.unmet(job.spec)
    except Exception as exc:  # a check that cannot be made forbids the start; never the runner
        log.exception("the preconditions of %s could not be checked", job.name)
        return f"precondition: could not be checked: {type(exc).__name__}: {exc}"


def last_line(output: str) -> str:
    """The output's last non-empty line, stripped (what an Icinga check result shows)."""
    for line in reversed(output.splitlines()):
        if line.strip():
            return line.strip()
    return ""


@contextlib.contextmanager
def stopped_by_signals(*flags: threading.Event) -> Iterator[list[int]]:
    """For a one-shot run: SIGTERM, SIGINT (Ctrl-C) or SIGHUP stop the job and the pass.

    The handler only sets `flags` (a runner's stop and cancel flags): the running job is
    killed with its processes and recorded `stopped`, no further job starts, and the
    caller learns which signal came (the list it is given) to exit with 128 + its
    number, as shells do.
    """
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        for flag in flags:
            flag.set()

    stop_signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {signum: signal.signal(signum, on_signal) for signum in stop_signals}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
