"""Where a job type's `run` executes: in the runner, or in a forked child it can kill."""

from __future__ import annotations

import enum

from director_jobs.job_types.base import JobType


class Isolation(enum.Enum):
    """Where a job type's `run` executes."""

    BY_TYPE = "by-type"  # one-shot: in a forked child unless the type cannot hang
    DAEMON = "daemon"  # --forever: every Python type in a child; `command` is one already
    ALWAYS = "always"  # every job in a child, `command` too (measures the cost of isolation)
    NEVER = "never"  # in the runner (no timeout for Python code; tests of the core only)

    def in_child(self, job_type: JobType) -> bool:
        """Whether `job_type` runs in a forked child under this policy."""
        if self is Isolation.ALWAYS:
            return True
        if self is Isolation.NEVER or job_type.starts_own_process:
            return False
        return self is Isolation.DAEMON or job_type.runs_in_child
