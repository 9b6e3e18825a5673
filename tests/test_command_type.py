"""The `command` job type with real child processes: output, exit codes, timeouts, users."""

from __future__ import annotations

import logging
import os
import pwd
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import alive

from director_jobs.clock import SystemClock
from director_jobs.errors import InvalidInput
from director_jobs.execution.command import CommandSpec, run_command
from director_jobs.execution.inprocess import RunLogAdapter, execute_in_process
from director_jobs.job_types.base import JobContext, JobFailed
from director_jobs.job_types.command import CommandJob
from director_jobs.model import RunStatus
from director_jobs.output import OutputTail


def context(timeout: float | None = 30, cancel: threading.Event | None = None) -> JobContext:
    output = OutputTail(limit=4096)
    logger = RunLogAdapter(logging.getLogger("test.command"), {"job_name": "t"}, output)
    return JobContext(
        job_name="t",
        run_id=None,
        logger=logger,
        clock=SystemClock(),
        output=output,
        timeout=timeout,
        cancel=cancel or threading.Event(),
    )


def run(params: dict[str, Any], ctx: JobContext | None = None) -> tuple[Any, JobContext]:
    job = CommandJob()
    ctx = ctx or context()
    return execute_in_process(job, job.validate(params), ctx), ctx


def test_string_is_split_like_a_shell_without_running_one(tmp_path: Path) -> None:
    outcome, ctx = run({"command": "printf '%s|' 'two words' $HOME"})
    assert outcome.status is RunStatus.SUCCESS
    assert "two words|$HOME|" in ctx.output.text()  # no shell: $HOME stays literal


def test_shell_only_when_asked() -> None:
    outcome, ctx = run({"command": "echo $((6 * 7))", "shell": True})
    assert outcome.status is RunStatus.SUCCESS and "42" in ctx.output.text()


def test_stdout_and_stderr_are_captured_and_nonzero_exit_fails() -> None:
    outcome, ctx = run({"command": ["sh", "-c", "echo out; echo err >&2; exit 4"]})
    assert outcome.status is RunStatus.ERROR
    assert outcome.exit_code == 4
    assert outcome.error == "command exited with 4"
    assert "out" in ctx.output.text() and "[stderr] err" in ctx.output.text()


def test_success_exit_codes() -> None:
    outcome, _ = run({"command": ["sh", "-c", "exit 3"], "success_exit_codes": [0, 3]})
    assert outcome.status is RunStatus.SUCCESS and outcome.exit_code == 3


def test_env_cwd_and_clean_environment(tmp_path: Path) -> None:
    outcome, ctx = run(
        {
            "command": ["sh", "-c", "echo $GREETING; pwd; echo home=${HOME:-unset}"],
            "env": {"GREETING": "hallo"},
            "cwd": str(tmp_path),
            "inherit_env": False,
        }
    )
    assert outcome.status is RunStatus.SUCCESS
    text = ctx.output.text()
    assert "hallo" in text and str(tmp_path) in text and "home=unset" in text


def test_output_tail_is_bounded_and_keeps_the_end() -> None:
    outcome, ctx = run({"command": ["sh", "-c", "for i in $(seq 1 2000); do echo line-$i; done"]})
    assert outcome.status is RunStatus.SUCCESS
    text = ctx.output.text()
    assert len(text.encode()) <= 4096 + 100
    assert text.rstrip().endswith("line-2000") and "earlier lines dropped" in text


def test_timeout_kills_the_whole_tree_including_escaped_grandchildren(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # A child in the job's group and a grandchild that leaves it with setsid: both must die.
    script = f"sleep 300 & echo $! >> {pids}; setsid sleep 300 & echo $! >> {pids}; wait"
    started = time.monotonic()
    outcome, _ = run({"command": script, "shell": True}, context(timeout=1))
    assert outcome.status is RunStatus.TIMEOUT
    assert "did not finish within 1 s" in (outcome.error or "")
    assert time.monotonic() - started < 60  # not the 300 s of the sleeps
    for pid in map(int, pids.read_text().split()):
        assert not alive(pid), f"process {pid} survived the timeout"


def test_cancel_stops_the_command() -> None:
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    outcome, _ = run({"command": ["sleep", "300"]}, context(timeout=None, cancel=cancel))
    assert outcome.status is RunStatus.STOPPED


def test_missing_program_is_an_error_run() -> None:
    outcome, _ = run({"command": ["/no/such/program"]})
    assert outcome.status is RunStatus.ERROR and outcome.exit_code == 127


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_run_as_another_user_when_root() -> None:
    outcome, ctx = run({"command": ["id", "-un"], "user": "nobody"})
    assert outcome.status is RunStatus.SUCCESS, outcome.error
    assert "nobody" in ctx.output.text().splitlines()[-1]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another uid in a child")
def test_user_switch_is_refused_when_not_root() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: become nobody, then ask for a user switch
        os.close(read)
        os.setgid(pwd.getpwnam("nobody").pw_gid)
        os.setuid(pwd.getpwnam("nobody").pw_uid)
        try:
            CommandJob()._spec(CommandJob().validate({"command": ["id"], "user": "root"}))
            message = "no error"
        except JobFailed as exc:
            message = str(exc)
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    message = os.read(read, 4096).decode()
    assert message.startswith("parameters.user: running as 'root' needs a runner running as root")


def test_unknown_user_fails_the_run() -> None:
    outcome, _ = run({"command": ["id"], "user": "no-such-user-xyz"})
    assert outcome.status is RunStatus.ERROR
    assert outcome.error == "parameters.user: no such user 'no-such-user-xyz'"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"command": ""}, "parameters.command"),
        ({"command": []}, "parameters.command"),
        ({"command": "echo 'unbalanced"}, "parameters.command"),
        ({"command": ["echo", 1]}, "parameters.command"),
        ({"command": ["echo"], "shell": True}, "parameters.command"),
        ({"command": "x", "cwd": "relative/dir"}, "parameters.cwd"),
        ({"command": "x", "env": {"A": 1}}, "parameters.env.A"),
        ({"command": "x", "success_exit_codes": []}, "parameters.success_exit_codes"),
        ({"command": "x", "success_exit_codes": [True]}, "parameters.success_exit_codes"),
        ({"command": "x", "shell": "yes"}, "parameters.shell"),
        ({}, "parameters.command"),
    ],
)
def test_invalid_parameters_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        CommandJob().validate(params)
    assert str(error.value).startswith(f"{field}: invalid value")


def _wait_for(path: Path, seconds: float) -> bool:
    """Whether `path` appears within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return path.exists()


def test_the_command_starts_only_after_the_runner_noted_its_process(tmp_path: Path) -> None:
    """The reaper must know the process group before the job can start anything."""
    marker = tmp_path / "started"
    seen_during_on_start: list[bool] = []

    def on_start(pid: int) -> None:
        assert alive(pid)
        seen_during_on_start.append(_wait_for(marker, 3))  # it would appear at once ungated

    outcome = run_command(
        CommandSpec(["touch", str(marker)], env={"PATH": os.environ["PATH"]}),
        timeout=60,
        cancel=threading.Event(),
        on_line=lambda stream, line: None,
        on_start=on_start,
    )

    assert seen_during_on_start == [False]
    assert outcome.exit_code == 0 and marker.exists()


def test_a_command_whose_start_cannot_be_noted_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    started: list[int] = []

    def on_start(pid: int) -> None:
        started.append(pid)
        raise RuntimeError("the reaper is gone")

    with pytest.raises(RuntimeError, match="the reaper is gone"):
        run_command(
            CommandSpec(["touch", str(marker)], env={"PATH": os.environ["PATH"]}),
            timeout=60,
            cancel=threading.Event(),
            on_line=lambda stream, line: None,
            on_start=on_start,
        )

    [pid] = started
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    assert not alive(pid)
    assert not marker.exists()


def test_the_command_reads_an_empty_stdin() -> None:
    outcome, ctx = run({"command": ["sh", "-c", "cat; echo after-stdin"]})
    assert outcome.status is RunStatus.SUCCESS
    assert "after-stdin" in ctx.output.text()
