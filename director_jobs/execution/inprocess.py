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
from director_jobs.model import RunStatus


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt, ready to be stored."""

    status: RunStatus
    exit_code: int | None
    error: str | None
    summary: str = ""


def execute_in_process(job_type: JobType, params: dict[str, Any], context: JobContext) -> Outcome:
    """Call `job_type.run`; never raises: every failure becomes an error outcome."""
    try:
        result = job_type.run(params, context)
    except JobTimedOut as exc:
        return Outcome(RunStatus.TIMEOUT, None, str(exc))
    except JobCancelled as exc:
        return Outcome(RunStatus.STOPPED, None, str(exc))
    except JobFailed as exc:
        return Outcome(RunStatus.ERROR, exc.exit_code, str(exc))
    except DirectorJobsError as exc:
        return Outcome(RunStatus.ERROR, None, str(exc))
    except Exception as exc:  # a job type's bug must fail its run, not the runner
        context.output.append(traceback.format_exc().rstrip())
        context.logger.debug("traceback of the failure", exc_info=True)
        return Outcome(RunStatus.ERROR, None, f"{type(exc).__name__}: {exc}")
    if result is None:
        result = JobResult()
    return Outcome(RunStatus.SUCCESS, result.exit_code, None, result.summary)


class RunLogAdapter(logging.LoggerAdapter[logging.Logger]):
    """Adds the job fields to every record and copies INFO+ lines into the run's output tail."""

    def __init__(self, logger: logging.Logger, extra: dict[str, Any], context_output: Any) -> None:
        super().__init__(logger, extra)
        self._output = context_output

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
        super().log(level, "%s", text, **kwargs)

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        """Merge the job fields into the record's extras."""
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs
