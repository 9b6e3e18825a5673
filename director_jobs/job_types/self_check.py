"""`self-check`: logs one line at each level and changes nothing; proves the pipeline works."""

from __future__ import annotations

from typing import Any

from director_jobs.job_types.base import JobContext, JobResult, JobType, Parameter
from director_jobs.logs import TRACE


class SelfCheckJob(JobType):
    """Log one line at TRACE, DEBUG, INFO, WARNING and ERROR, then succeed."""

    name = "self-check"
    description = "Log one line at each level (TRACE to ERROR) and succeed; changes nothing."
    runs_in_child = False  # five log lines cannot hang
    parameters = (
        Parameter("message", (str,), "Text appended to each line.", default="self-check"),
    )

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        """Emit the five lines."""
        message = params["message"]
        context.logger.log(TRACE, "trace: %s", message)
        context.logger.debug("debug: %s", message)
        context.logger.info("info: %s", message)
        context.logger.warning("warning: %s", message)
        context.logger.error("error: %s (this line is expected)", message)
        return JobResult(summary="self-check passed")
