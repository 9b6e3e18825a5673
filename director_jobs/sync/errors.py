"""The error of a sync rule that cannot run; the message names the rule and the cause."""

from __future__ import annotations

from director_jobs.errors import DirectorJobsError


class SyncFailed(DirectorJobsError):
    """A sync rule failed (no import yet, a row without an object name, …)."""

    def __init__(self, rule: str, cause: str) -> None:
        self.rule = rule
        self.cause = cause
        super().__init__(f"sync rule {rule!r}: {cause}")
