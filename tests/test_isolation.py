"""Python job types run in a forked child: timeouts, memory limits and crashes are contained."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import alive, missing
from jobtypes_for_tests import TEST_TYPES

from director_jobs.clock import SystemClock
from director_jobs.db.database import Database
from director_jobs.execution.containment import Containment
from director_jobs.execution.isolation import Isolation
from director_jobs.job_types.registry import Registry
from director_jobs.model import JobSpec, Run, RunStatus
from director_jobs.runner import PassReport, Runner
from director_jobs.services.jobs import JobService

Setup = tuple[Database, JobService, Runner]


def containment(kind: str) -> Containment:
    """A cgroup per job (where this machine allows it: root, cgroup2), or process groups."""
    found = Containment.detect("auto" if kind == "cgroup" else "process-group")
    if kind == "cgroup" and not found.uses_cgroups:
        missing("cgroups", "run as root on Linux 5.14 or newer with a writable cgroup2 tree")
    return found


@pytest.fixture(params=["cgroup", "process-group"])
def setup(sqlite_url: str, request: pytest.FixtureRequest) -> Iterator[Setup]:
    """Each containment a runner can use; the tests say what must hold for both."""
    database = Database.open(sqlite_url)
    registry = Registry(TEST_TYPES)
    clock = SystemClock()
    runner = Runner(
        database, registry, clock, default_timezone="UTC", containment=containment(request.param)
    )
    yield (database, JobService(database, registry, clock, "UTC"), runner)
    runner.close()
    database.dispose()


def memory_error(runner: Runner, limit: int) -> str:
    """How a run killed at its memory limit begins, by who enforced it."""
    if runner.containment.layout is not None and runner.containment.layout.memory_base:
        return f"memory limit {limit} MiB exceeded (the kernel stopped the job at its cgroup's "
    return f"memory limit {limit} MiB exceeded ("


def only_run(database: Database, name: str) -> Run:
    runs = database.runs.history(name, 5)
    assert len(runs) == 1
    return runs[0]


def test_a_hanging_python_job_is_killed_at_its_timeout_with_its_grandchildren(
    setup: Setup, tmp_path: Path
) -> None:
    database, service, runner = setup
    pid_file = tmp_path / "pids"
    service.add(
        JobSpec(
            name="stuck",
            type="hang",
            parameters={"pid_file": str(pid_file)},
            interval=3600,
            timeout=1,
        )
    )
    runner.run_once()
    run = only_run(database, "stuck")
    assert run.status is RunStatus.TIMEOUT
    assert "did not finish within 1 s" in run.error
    assert "hanging now" in run.output
    child, grandchild = map(int, pid_file.read_text().split())
    assert not alive(child) and not alive(grandchild)


def test_a_python_job_is_stopped_at_its_timeout_not_later(setup: Setup) -> None:
    """3 s of work with a 1 s timeout is a timeout (a grace period once made it a success)."""
    database, service, runner = setup
    service.add(
        JobSpec(name="slow", type="sleep", parameters={"seconds": 3}, interval=3600, timeout=1)
    )
    service.add(
        JobSpec(name="quick", type="sleep", parameters={"seconds": 0.2}, interval=3600, timeout=30)
    )
    runner.run_once()
    slow = only_run(database, "slow")
    assert slow.status is RunStatus.TIMEOUT, slow
    assert slow.error == "job did not finish within 1 s; killed with its children"
    assert only_run(database, "quick").status is RunStatus.SUCCESS


def test_jobs_execute_enforces_its_timeout_on_python_types(sqlite_url: str) -> None:
    from director_jobs.services.adhoc import execute_adhoc

    database = Database.open(sqlite_url)
    registry = Registry(TEST_TYPES)
    outcome, _ = execute_adhoc(database, registry, SystemClock(), "sleep", {"seconds": 3}, 1)
    assert outcome.status is RunStatus.TIMEOUT
    [run] = database.runs.history("execute:sleep", 5)
    assert run.status is RunStatus.TIMEOUT
    outcome, _ = execute_adhoc(database, registry, SystemClock(), "sleep", {"seconds": 0.1}, 30)
    assert outcome.status is RunStatus.SUCCESS
    database.dispose()


@pytest.mark.parametrize(
    ("policy", "self_check", "python_type", "command"),
    [
        (Isolation.BY_TYPE, False, True, False),
        (Isolation.DAEMON, True, True, False),
        (Isolation.ALWAYS, True, True, True),
        (Isolation.NEVER, False, False, False),
    ],
)
def test_which_types_each_policy_forks(
    policy: Isolation, self_check: bool, python_type: bool, command: bool
) -> None:
    registry = Registry(TEST_TYPES)
    assert policy.in_child(registry.get("self-check")) is self_check
    assert policy.in_child(registry.get("sleep")) is python_type
    assert policy.in_child(registry.get("command")) is command


def test_a_job_that_eats_memory_is_killed_at_its_memory_limit(setup: Setup) -> None:
    database, service, runner = setup
    service.add(JobSpec(name="greedy", type="hog", interval=3600, timeout=60, memory_limit=150))
    runner.run_once()
    run = only_run(database, "greedy")
    assert run.status is RunStatus.ERROR
    assert run.error.startswith(memory_error(runner, 150)), run.error


def test_a_python_jobs_limit_counts_its_own_memory_not_the_runners(setup: Setup) -> None:
    """The forked child shares the runner's pages; a limit below the runner's RSS still works."""
    import psutil

    database, service, runner = setup
    limit = 40
    assert psutil.Process().memory_info().rss > limit * 1024 * 1024  # the runner is bigger
    service.add(
        JobSpec(
            name="modest",
            type="allocate",
            parameters={"mib": 10},
            interval=3600,
            memory_limit=limit,
        )
    )
    service.add(
        JobSpec(
            name="too-much",
            type="allocate",
            parameters={"mib": 60},
            interval=3600,
            memory_limit=limit,
        )
    )
    runner.run_once()
    assert only_run(database, "modest").status is RunStatus.SUCCESS
    too_much = only_run(database, "too-much")
    assert too_much.status is RunStatus.ERROR
    expected = memory_error(runner, 40)
    if not runner.containment.uses_cgroups:
        expected += "memory of its own "
    assert too_much.error.startswith(expected), too_much.error


def test_a_command_that_eats_memory_is_killed_at_its_memory_limit(setup: Setup) -> None:
    database, service, runner = setup
    eat = "import time\nx=[]\nwhile True:\n    x.append(bytearray(8<<20)); time.sleep(0.01)"
    service.add(
        JobSpec(
            name="greedy-cmd",
            type="command",
            parameters={"command": ["python3", "-c", eat]},
            interval=3600,
            memory_limit=100,
        )
    )
    runner.run_once()
    run = only_run(database, "greedy-cmd")
    assert run.status is RunStatus.ERROR
    assert run.error.startswith(memory_error(runner, 100)), run.error


def test_a_crashing_job_fails_its_run_and_the_runner_goes_on(setup: Setup) -> None:
    database, service, runner = setup
    service.add(JobSpec(name="dies", type="crash", interval=3600))
    service.add(JobSpec(name="raises", type="raise", interval=3600))
    service.add(JobSpec(name="fine", type="self-check", interval=3600))
    report = PassReport()
    runner.run_once(report)
    assert dict(report.statuses) == {
        "dies": RunStatus.ERROR,
        "raises": RunStatus.ERROR,
        "fine": RunStatus.SUCCESS,
    }
    dies = only_run(database, "dies")
    assert dies.error == "job process ended without a result (killed by signal 9 (SIGKILL))"
    assert "about to die" in dies.output
    raises = only_run(database, "raises")
    assert raises.error == "RuntimeError: boom from a plug-in"
    assert "Traceback" in raises.output


def test_cancel_stops_a_python_job(setup: Setup, tmp_path: Path) -> None:
    import threading

    database, service, runner = setup
    service.add(
        JobSpec(
            name="stuck", type="hang", parameters={"pid_file": str(tmp_path / "p")}, interval=3600
        )
    )
    threading.Timer(1.0, runner.cancel_current.set).start()
    started = time.monotonic()
    runner.run_once()
    assert time.monotonic() - started < 60
    assert only_run(database, "stuck").status is RunStatus.STOPPED


def test_the_job_process_is_recorded_with_its_run(setup: Setup, tmp_path: Path) -> None:
    from sqlalchemy import select

    from director_jobs.db.schema import runs

    database, service, runner = setup
    service.add(
        JobSpec(name="echo", type="command", parameters={"command": "echo hi"}, interval=3600)
    )
    runner.run_once()
    with database.engine.connect() as connection:
        row = connection.execute(select(runs.c.job_pid, runs.c.job_process_start)).one()
    assert row.job_pid and row.job_pid != os.getpid() and row.job_process_start


def test_leftovers_of_a_reaped_job_leader_are_found_through_its_session(tmp_path: Path) -> None:
    """The job's shell died with its runner and was reaped; the sleep it started lives on."""
    import subprocess

    from director_jobs.identity import process_start

    pid_file = tmp_path / "child"
    leader = subprocess.Popen(
        ["sh", "-c", f"sleep 300 & echo $! > {pid_file}; sleep 0.5"], start_new_session=True
    )
    started = process_start(leader.pid)
    assert leader.wait(10) == 0  # exited and reaped: its pid is free, its session is not
    orphan = int(pid_file.read_text())
    assert alive(orphan)
    bystander = subprocess.Popen(["sleep", "300"])  # another session: must survive
    try:
        Runner._kill_leftovers(7, leader.pid, started)
        deadline = time.monotonic() + 10
        while alive(orphan) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(orphan)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_recycled_pid_is_not_killed(tmp_path: Path) -> None:
    """A live process under the recorded pid, but started at another time, is not the job."""
    import subprocess

    other = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        Runner._kill_leftovers(7, other.pid, 12345.0)  # a start time it does not have
        time.sleep(0.2)
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
