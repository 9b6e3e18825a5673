"""The runner's contract on both backends: pending, sequential, retries, skipped slots, recovery."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from director_jobs.clock import FakeClock
from director_jobs.db.database import Database
from director_jobs.db.schema import jobs, runs
from director_jobs.identity import RunnerIdentity
from director_jobs.job_types.registry import Registry
from director_jobs.model import JobSpec, RunStatus, Trigger
from director_jobs.runner import PassReport, Runner
from director_jobs.services.jobs import JobService


def service(database: Database, clock: FakeClock) -> JobService:
    return JobService(database, Registry(), clock, "UTC")


def runner(database: Database, clock: FakeClock) -> Runner:
    return Runner(database, Registry(), clock, default_timezone="UTC")


def statuses(database: Database, name: str) -> list[tuple[str, str]]:
    """(status, trigger) of a job's runs, oldest first."""
    return [(r.status.value, r.trigger.value) for r in reversed(database.runs.history(name, 100))]


def test_interval_job_runs_when_due_and_again_after_its_interval(
    database: Database, clock: FakeClock
) -> None:
    service(database, clock).add(JobSpec(name="hello", type="self-check", interval=600))
    r = runner(database, clock)

    assert r.run_once() == 600.0
    assert statuses(database, "hello") == [("success", "schedule")]

    clock.advance(599)
    r.run_once()
    assert len(statuses(database, "hello")) == 1  # not due yet

    clock.advance(1)
    r.run_once()
    assert statuses(database, "hello") == [("success", "schedule")] * 2


def test_disabled_and_manual_only_jobs_are_not_pending(
    database: Database, clock: FakeClock
) -> None:
    svc = service(database, clock)
    svc.add(JobSpec(name="off", type="self-check", interval=60, disabled=True))
    svc.add(JobSpec(name="manual", type="self-check"))
    assert runner(database, clock).run_once() is None
    assert database.runs.history(None, 10) == []


def test_failures_are_error_runs_with_the_reason(database: Database, clock: FakeClock) -> None:
    svc = service(database, clock)
    svc.add(JobSpec(name="fails", type="command", parameters={"command": ["false"]}, interval=60))
    svc.add(
        JobSpec(
            name="missing", type="command", parameters={"command": ["/nonexistent/x"]}, interval=60
        )
    )
    report = PassReport()
    runner(database, clock).run_once(report)
    assert report.failed == 2
    by_name = {r.job_name: r for r in database.runs.history(None, 10)}
    assert by_name["fails"].status is RunStatus.ERROR
    assert by_name["fails"].exit_code == 1
    assert by_name["fails"].error == "command exited with 1"
    assert by_name["missing"].status is RunStatus.ERROR
    assert "cannot start '/nonexistent/x'" in (by_name["missing"].error or "")


def test_sequential_oldest_due_first(database: Database, clock: FakeClock) -> None:
    svc = service(database, clock)
    for name, age in (("b-middle", 20), ("a-newest", 10), ("c-oldest", 30)):
        svc.add(JobSpec(name=name, type="self-check", interval=3600))
        with database.engine.begin() as c:
            c.execute(
                update(jobs)
                .where(jobs.c.name == name)
                .values(next_due_at=clock.now() - timedelta(seconds=age))
            )
    runner(database, clock).run_once()
    started = [r.job_name for r in reversed(database.runs.history(None, 10))]
    assert started == ["c-oldest", "b-middle", "a-newest"]


def test_retries_back_off_exponentially_then_follow_the_schedule(
    database: Database, clock: FakeClock
) -> None:
    service(database, clock).add(
        JobSpec(
            name="flaky",
            type="command",
            parameters={"command": ["false"]},
            interval=3600,
            retries=2,
            retry_delay=10,
        )
    )
    r = runner(database, clock)
    assert r.run_once() == pytest.approx(10)  # first retry after retry_delay
    clock.advance(10)
    assert r.run_once() == pytest.approx(20)  # then doubled
    clock.advance(20)
    r.run_once()
    assert statuses(database, "flaky") == [
        ("error", "schedule"),
        ("error", "retry"),
        ("error", "retry"),
    ]
    assert [run.attempt for run in reversed(database.runs.history("flaky", 10))] == [1, 2, 3]
    job = database.jobs.get("flaky")
    assert job.attempt == 0 and job.pending_trigger is None
    assert job.last_attempt_at == clock.now()  # the last retry
    assert job.next_due_at == clock.now() + timedelta(seconds=3600)  # interval from its start


def test_a_job_runs_once_per_pass_even_when_its_interval_is_shorter_than_its_run(
    database: Database, clock: FakeClock
) -> None:
    service(database, clock).add(JobSpec(name="fast", type="self-check", interval=1))
    r = runner(database, clock)
    original_attempt = r._attempt

    def slow_attempt(*args: object) -> object:
        clock.advance(5)  # the job "takes" 5 s: due again before it ends
        return original_attempt(*args)  # type: ignore[arg-type]

    r._attempt = slow_attempt  # type: ignore[method-assign,assignment]
    assert r.run_once() == 0.0
    assert len(database.runs.history("fast", 10)) == 1


def test_downtime_runs_once_and_records_the_skipped_slots(
    database: Database, clock: FakeClock
) -> None:
    service(database, clock).add(JobSpec(name="hourly", type="self-check", cron="0 * * * *"))
    r = runner(database, clock)
    clock.advance(3600 * 5 + 1800)  # due at 13:00; the runner comes back at 17:30
    r.run_once()
    history = database.runs.history("hourly", 10)
    assert [run.status for run in history] == [RunStatus.SUCCESS, RunStatus.SKIPPED]
    skipped = history[1]
    assert skipped.error is not None and skipped.error.startswith(
        "4 slot(s) from 2026-06-01T14:00:00+00:00 to 2026-06-01T17:00:00+00:00"
    )
    assert database.jobs.get("hourly").next_due_at == clock.now().replace(
        hour=18, minute=0, second=0, microsecond=0
    )


def test_a_new_interval_job_started_late_records_no_skipped_slots(
    database: Database, clock: FakeClock
) -> None:
    service(database, clock).add(JobSpec(name="new", type="self-check", interval=60))
    r = runner(database, clock)
    clock.advance(600)  # the runner starts ten intervals after the job was added
    r.run_once()
    assert [run.status for run in database.runs.history("new", 10)] == [RunStatus.SUCCESS]
    clock.advance(600)  # once it has run, the slots of a downtime are recorded
    r.run_once()
    assert [run.status for run in database.runs.history("new", 10)] == [
        RunStatus.SUCCESS,
        RunStatus.SKIPPED,
        RunStatus.SUCCESS,
    ]


def test_a_dead_runners_run_is_abandoned_and_the_job_due_again(
    database: Database, clock: FakeClock
) -> None:
    service(database, clock).add(JobSpec(name="victim", type="self-check", interval=60))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_identity = RunnerIdentity(RunnerIdentity.current().host, int(dead.stdout), 12345.0)
    job = database.jobs.get("victim")
    run_id = database.jobs.claim(
        job,
        runner=dead_identity.label,
        runner_process_start=dead_identity.process_start,
        now=clock.now(),
        trigger=Trigger.SCHEDULE,
        attempt=1,
        scheduled_for=job.next_due_at,
        require_due=True,
    )
    assert run_id is not None
    clock.advance(90)  # due again at +60 by its interval; late by less than one interval
    r = runner(database, clock)
    r.run_once()
    abandoned = database.runs.get(run_id)
    assert abandoned is not None and abandoned.status is RunStatus.ABANDONED
    assert dead_identity.label in (abandoned.error or "")
    assert [run.status for run in database.runs.history("victim", 10)] == [
        RunStatus.SUCCESS,
        RunStatus.ABANDONED,
    ]


def test_a_live_runners_claim_is_respected(database: Database, clock: FakeClock) -> None:
    service(database, clock).add(JobSpec(name="busy", type="self-check", interval=60))
    job = database.jobs.get("busy")
    me = RunnerIdentity.current()
    other = RunnerIdentity(me.host, os.getppid(), None)  # our parent is alive
    assert database.jobs.claim(
        job,
        runner=other.label,
        runner_process_start=None,
        now=clock.now(),
        trigger=Trigger.SCHEDULE,
        attempt=1,
        scheduled_for=None,
        require_due=True,
    )
    runner(database, clock).run_once()
    with database.engine.connect() as c:
        assert c.execute(select(runs.c.status)).scalars().all() == ["running"]


def test_second_claim_of_the_same_job_fails(database: Database, clock: FakeClock) -> None:
    service(database, clock).add(JobSpec(name="once", type="self-check", interval=60))
    job = database.jobs.get("once")
    kwargs = dict(
        runner_process_start=None,
        now=clock.now(),
        trigger=Trigger.SCHEDULE,
        attempt=1,
        scheduled_for=None,
        require_due=True,
    )
    assert database.jobs.claim(job, runner="a:1", **kwargs) is not None  # type: ignore[arg-type]
    assert database.jobs.claim(job, runner="b:2", **kwargs) is None  # type: ignore[arg-type]


def test_a_trigger_after_the_runners_read_is_not_swallowed_by_a_scheduled_claim(
    database: Database, clock: FakeClock
) -> None:
    jobs = service(database, clock)
    jobs.add(JobSpec(name="both", type="self-check", interval=60))
    stale = database.jobs.get("both")  # due by its schedule, no trigger yet
    queued = jobs.trigger("both").run

    lost = database.jobs.claim(
        stale,
        runner="r:1",
        runner_process_start=None,
        now=clock.now(),
        trigger=Trigger.SCHEDULE,
        attempt=1,
        scheduled_for=stale.next_due_at,
        require_due=True,
    )
    runner(database, clock).run_once()

    assert lost is None  # the claim lost: the trigger changed the row after the read
    run = database.runs.get(queued.id)
    assert run is not None and (run.status, run.trigger) == (RunStatus.SUCCESS, Trigger.MANUAL)
