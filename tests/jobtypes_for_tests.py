"""Python job types that misbehave on purpose, for the isolation tests (imported by name)."""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

from director_jobs.job_types.base import JobContext, JobFailed, JobResult, JobType, Parameter


class HangJob(JobType):
    """Starts a grandchild that writes its pid to a file, then sleeps forever."""

    name = "hang"
    description = "hangs"
    parameters = (
        Parameter("pid_file", (str,), "where to write the grandchild's pid", required=True),
    )

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        grandchild = subprocess.Popen(["sleep", "300"])
        with open(params["pid_file"], "w") as handle:
            handle.write(f"{os.getpid()} {grandchild.pid}\n")
        context.logger.info("hanging now")
        time.sleep(300)
        return JobResult()


class HogJob(JobType):
    """Allocates memory without bound."""

    name = "hog"
    description = "eats memory"

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        hoard = []
        while True:
            hoard.append(bytearray(8 * 1024 * 1024))  # touched pages: real RSS
            time.sleep(0.01)


class CrashJob(JobType):
    """Dies hard, without a result."""

    name = "crash"
    description = "dies"

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        context.logger.info("about to die")
        os.kill(os.getpid(), 9)
        return JobResult()


class RaiseJob(JobType):
    """Raises an ordinary exception."""

    name = "raise"
    description = "raises"

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        raise RuntimeError("boom from a plug-in")


class SleepJob(JobType):
    """Sleeps a while, then succeeds: slow, but not hung."""

    name = "sleep"
    description = "sleeps"
    parameters = (Parameter("seconds", (float,), "how long", default=1.0),)

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        time.sleep(params["seconds"])
        return JobResult(summary="slept")


class AllocateJob(JobType):
    """Holds a fixed amount of memory for a while, then succeeds."""

    name = "allocate"
    description = "holds memory"
    parameters = (Parameter("mib", (int,), "how much", default=10),)

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        held = bytearray(params["mib"] * 1024 * 1024)
        for offset in range(0, len(held), 4096):
            held[offset] = 1  # touch every page: resident, not just reserved
        time.sleep(1.5)  # long enough for several memory checks
        return JobResult(summary=f"held {len(held)} bytes")


class PoisonJob(JobType):
    """Logs and fails with text no database stores as it is (NUL, lone surrogates)."""

    name = "poison"
    description = "unstorable text"

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        context.logger.info("log \x00 line \ud800")
        raise JobFailed("bad \x00 and \udcff\ud800 here")


class HugeExitJob(JobType):
    """Succeeds with an exit code no INTEGER column holds."""

    name = "huge-exit"
    description = "reports exit code 2**70"
    runs_in_child = False

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        return JobResult(exit_code=2**70)


TEST_TYPES = {
    "poison": "jobtypes_for_tests:PoisonJob",
    "huge-exit": "jobtypes_for_tests:HugeExitJob",
    "allocate": "jobtypes_for_tests:AllocateJob",
    "sleep": "jobtypes_for_tests:SleepJob",
    "hang": "jobtypes_for_tests:HangJob",
    "hog": "jobtypes_for_tests:HogJob",
    "crash": "jobtypes_for_tests:CrashJob",
    "raise": "jobtypes_for_tests:RaiseJob",
    "self-check": "director_jobs.job_types.self_check:SelfCheckJob",
    "command": "director_jobs.job_types.command:CommandJob",
}
