"""How a runner holds each job's processes together and ends all of them: a cgroup per job
where the runner may create one, else the job's own session and process group."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from director_jobs.execution.cgroups import PREFIX, CgroupLayout, JobCgroup, detect_layout
from director_jobs.execution.process_tree import kill_session, session_members

log = logging.getLogger("director_jobs.containment")


@dataclass(frozen=True)
class Containment:
    """The runner's way of containing jobs, found once at start (`director status` shows it)."""

    layout: CgroupLayout | None

    @classmethod
    def detect(cls, wanted: str = "auto") -> Containment:
        """cgroups when usable (unless `wanted` is "process-group"), else process groups."""
        if wanted == "process-group":
            return cls(None)
        return cls(detect_layout())

    @property
    def uses_cgroups(self) -> bool:
        """True when each job gets a cgroup."""
        return self.layout is not None

    def describe(self) -> str:
        """What happens to a job's processes, in one line."""
        if self.layout is not None:
            return self.layout.describe()
        return (
            "process groups: a job's session is killed with it (a process that starts a "
            "session of its own escapes); memory limits by sampling RSS"
        )

    def open(self, run_id: int, memory_limit_mib: float | None) -> JobCgroup | None:
        """A new cgroup for run `run_id`, or None with process groups (or when it fails)."""
        if self.layout is None:
            return None
        try:
            return JobCgroup(self.layout, f"{PREFIX}{os.getpid()}-{run_id}", memory_limit_mib)
        except OSError as exc:
            log.warning("run %d: no cgroup (%s); using its process group", run_id, exc)
            return None


def end_leftovers(
    cgroup: JobCgroup | None, leader: int, logger: logging.LoggerAdapter[Any] | None
) -> list[int]:
    """Kill what a job left running after its main process ended; return their pids.

    With a cgroup that is everything still in it; without one, the other members of the
    session the job's main process led (its pid is the session id, and the kernel gives
    no new process a pid a live session still uses). The run's log says what was killed.
    """
    if cgroup is not None:
        leftovers = cgroup.pids()
        if leftovers:
            described = _describe(leftovers)
            cgroup.kill()
        else:
            return []
    else:
        leftovers = session_members(leader)
        if not leftovers:
            return []
        described = _describe(leftovers)
        kill_session(leader, grace=1.0)
    if logger is not None:
        logger.warning(
            "the job's main process ended; killed %d process(es) it left running: %s",
            len(leftovers),
            described,
        )
    return leftovers


def _describe(pids: list[int]) -> str:
    """`1234 (sleep), 1240 (sh)` from /proc (a pid gone meanwhile shows as `1234 (?)`)."""
    names = []
    for pid in pids[:10]:
        try:
            with open(f"/proc/{pid}/comm") as comm:
                name = comm.read().strip()
        except OSError:
            name = "?"
        names.append(f"{pid} ({name})")
    more = f" and {len(pids) - 10} more" if len(pids) > 10 else ""
    return ", ".join(names) + more


def kernel_memory_message(cgroup: JobCgroup | None, limit_mib: float | None) -> str | None:
    """The run's error when the kernel OOM-killed inside the job's cgroup, else None."""
    if cgroup is None or limit_mib is None or not cgroup.memory_exceeded():
        return None
    cgroup.kill()
    return (
        f"memory limit {limit_mib:g} MiB exceeded (the kernel stopped the job at its "
        "cgroup's limit); killed with its children"
    )
