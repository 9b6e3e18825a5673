"""`self-check`: logs one line at each level and changes nothing; proves the pipeline works."""

from __future__ import annotations

import logging
from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.job_types.base import JobContext, JobResult, JobType, Parameter
from director_jobs.logs import TRACE

# The levels a self-check logs at, in order, with how each line reads.
LEVEL_LINES = {
    "trace": (TRACE, "Test output in TRACE level"),
    "debug": (logging.DEBUG, "Test output in DEBUG level"),
    "info": (logging.INFO, "Test output in INFO level"),
    "warning": (logging.WARNING, "Test output in WARN level"),
    "error": (logging.ERROR, "Test output in ERROR level (this line is expected)"),
}


class SelfCheckJob(JobType):
    """Log one line at each of its levels (TRACE to ERROR), then succeed."""

    name = "self-check"
    description = "Log one line at each level (TRACE to ERROR) and succeed; changes nothing."
    runs_in_child = False  # five log lines cannot hang
    parameters = (
        Parameter("message", (str,), "Text appended to each line.", default=""),
        Parameter(
            "levels",
            (list,),
            "The levels to log at; a scheduled check that should stay quiet logs only "
            '["trace", "debug", "info"].',
            default=list(LEVEL_LINES),
        ),
    )

    def check(self, params: dict[str, Any]) -> None:
        """Levels are known names."""
        levels = params["levels"]
        if not levels or not all(isinstance(name, str) and name in LEVEL_LINES for name in levels):
            raise InvalidInput(
                "parameters.levels", levels, f"expected a list of {', '.join(LEVEL_LINES)}"
            )

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        """Emit one line per level."""
        suffix = f": {params['message']}" if params["message"] else ""
        for name in LEVEL_LINES:
            if name in params["levels"]:
                level, text = LEVEL_LINES[name]
                context.logger.log(level, "%s%s", text, suffix)
        return JobResult(summary="self-check passed")
