"""Run a job type's `run` in this process and turn whatever happens into an Outcome."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from typing import Any

from director_jobs.errors import DirectorJobsError
from director_jobs.job_types.base import (
    JobCancelled,
    JobContext,
    JobFailed,
    JobResult,
    JobTimedOut,
    JobType,
)
from director_jobs.model import OUTPUT_TAIL_BYTES, RunStatus


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt, ready to be stored."""

    status: RunStatus
    exit_code: int | None
    error: str | None
    summary: str = ""
    retry: bool = True  # a failure: whether the job's retries may be spent on it


def execute_in_process(job_type: JobType, params: dict[str, Any], context: JobContext) -> Outcome:
    """Call `job_type.run`; never raises: every failure becomes an error outcome."""
    try:
        result = job_type.run(params, context)
    except JobTimedOut as exc:
        return Outcome(RunStatus.TIMEOUT, None, str(exc))
    except JobCancelled as exc:
        return Outcome(RunStatus.STOPPED, None, str(exc))
    except JobFailed as exc:
        return Outcome(RunStatus.ERROR, exc.exit_code, str(exc), retry=exc.retry)
    except DirectorJobsError as exc:
        return Outcome(RunStatus.ERROR, None, str(exc))
    except Exception as exc:  # a job type's bug must fail its run, not the runner
        context.output.append(traceback.format_exc().rstrip())
        context.logger.debug("traceback of the failure", exc_info=True)
        return Outcome(RunStatus.ERROR, None, f"{type(exc).__name__}: {exc}")
    if result is None:
        result = JobResult()
    return Outcome(RunStatus.SUCCESS, result.exit_code, None, result.summary)


# What one run may write to the log (-v shows a command's output there): like the stored
# tail, enough for any diagnosis; a job printing 1 GiB must not fill the journal with it.
LOG_BUDGET_BYTES = 64 * 1024


class RunLogAdapter(logging.LoggerAdapter[logging.Logger]):
    """Adds the job fields to every record, copies INFO+ lines into the run's output tail,
    and stops logging a run's lines past LOG_BUDGET_BYTES (the tail keeps its own limit)."""

    def __init__(
        self,
        logger: logging.Logger,
        extra: dict[str, Any],
        context_output: Any,
        budget: float = LOG_BUDGET_BYTES,
    ) -> None:
        super().__init__(logger, extra)
        self._output = context_output
        self._budget = budget
        self.dropped_lines = 0

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        """Log as usual, known secrets scrubbed; keep INFO and above in the tail whatever the
        console level is."""
        if not self.isEnabledFor(level) and level < logging.INFO:
            return
        text = str(msg) % args if args else str(msg)
        scrub = getattr(self._output, "scrub", None)
        if scrub is not None:
            text = scrub(text)
        extra = kwargs.get("extra") or {}
        if level >= logging.INFO and not extra.get("in_tail"):
            self._output.append(f"{logging.getLevelName(level)}: {text}")
        if not self.isEnabledFor(level):
            return
        self._budget -= len(text) + 1
        if self._budget < 0:
            self.dropped_lines += 1
            return
        super().log(level, "%s", text, **kwargs)

    def note_dropped(self) -> None:
        """At the end of a run: say how many of its lines the budget kept from the log."""
        if self.dropped_lines:
            lines, self.dropped_lines = self.dropped_lines, 0
            super().log(
                logging.WARNING,
                "… %d lines of this run not logged (more than %d KiB); the run keeps its "
                "last %d KiB: director jobs history --output",
                lines,
                LOG_BUDGET_BYTES // 1024,
                OUTPUT_TAIL_BYTES // 1024,
            )

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        """Merge the job fields into the record's extras."""
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs
