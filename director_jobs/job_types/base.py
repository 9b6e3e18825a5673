"""The job-type interface: a name, declared parameters with defaults, and `run(params, context)`."""

from __future__ import annotations

import enum
import json
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from director_jobs import progress
from director_jobs.clock import Clock
from director_jobs.errors import DirectorJobsError, InvalidInput
from director_jobs.output import OutputTail
from director_jobs.validation import MAX_NESTING, refuse_too_deep

if TYPE_CHECKING:
    from director_jobs.execution.cgroups import JobCgroup

# At most one progress report a second is kept: enough to watch, few enough to store.
PROGRESS_SECONDS = 1.0

_TYPE_NAMES = {
    str: "a string",
    bool: "true or false",
    int: "a whole number",
    float: "a finite number",
}


@dataclass(frozen=True)
class Parameter:
    """One declared parameter: its JSON kinds, default and meaning."""

    name: str
    kinds: tuple[type, ...]
    description: str
    default: Any = None
    required: bool = False

    def expected(self) -> str:
        """Describe the accepted kinds for an error message."""
        return " or ".join(_TYPE_NAMES.get(k, f"a JSON {k.__name__}") for k in self.kinds)

    def accepts(self, value: Any) -> bool:
        """True when `value` has one of the declared kinds (bool is not a number here).

        NaN and infinity are no numbers either: JSON has neither, and a NaN grace period
        or retention would compare false with everything and silently switch it off.
        """
        if isinstance(value, bool):
            return bool in self.kinds
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if isinstance(value, int) and float in self.kinds:
            return True
        return isinstance(value, self.kinds)


class ReferenceKind(enum.StrEnum):
    """Definitions a job's parameters may name, checked when the job is defined."""

    IMPORT_SOURCE = "import source"
    SYNC_RULE = "sync rule"


@dataclass(frozen=True)
class Reference:
    """One parameter that names another definition, e.g. an import job's `source`."""

    field: str
    kind: ReferenceKind
    name: str


class JobFailed(DirectorJobsError):
    """Raised by a job type to fail its run with a message (and optionally an exit code).

    `retry=False` is the type's own retry policy (Harbor's ShouldRetry): the failure is
    one a retry cannot mend (a configuration Icinga refused), so the job's `retries` are
    not spent on it; the schedule decides the next run.
    """

    def __init__(self, message: str, exit_code: int | None = None, *, retry: bool = True) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.retry = retry


class JobTimedOut(DirectorJobsError):
    """Raised when a job ran past its timeout and was stopped."""


class JobCancelled(DirectorJobsError):
    """Raised when a job stopped because the runner asked it to (shutdown)."""


@dataclass
class JobResult:
    """What a successful `run` may report: an exit code for the record and a summary.

    Returning always means success (a command may succeed with exit code 3 when told
    so); to fail, raise JobFailed.
    """

    exit_code: int = 0
    summary: str = ""


@dataclass
class JobContext:
    """What a running job may use; passed in so that job types reach for no globals."""

    job_name: str
    run_id: int | None
    logger: logging.LoggerAdapter[logging.Logger]
    clock: Clock
    output: OutputTail
    timeout: float | None
    cancel: threading.Event = field(default_factory=threading.Event)
    database_url: str | None = None
    # Call now and then while waiting: it tells the daemon's watchdog that all is well.
    heartbeat: Callable[[], None] = field(default=lambda: None)
    # RSS limit (MiB) for the job's process tree, enforced by whoever starts processes.
    memory_limit: float | None = None
    # Told the pid of each process started for the job (to find leftovers after a crash).
    on_process: Callable[[int], None] = field(default=lambda pid: None)
    # The cgroup a job that starts its own process (`command`) puts it in, when the runner
    # has one for it; a type running in a forked child is inside its cgroup already.
    cgroup: JobCgroup | None = None
    # A manual run with --force: the job may do what its safety limits refuse otherwise
    # (an import that shrinks a lot, a sync that purges a lot).
    force: bool = False

    # When progress was last reported (monotonic seconds); see progress().
    _progress_at: float = field(default=-math.inf, init=False, repr=False)

    def progress(self, message: str, fraction: float | None = None) -> None:
        """Report how far the run is, as a `::progress` output line that `jobs show`,
        `status`, the API and the web page show; at most one a second is kept (a job may
        call this for every row), except the one that says it is done (fraction 1)."""
        now = time.monotonic()
        if now - self._progress_at < PROGRESS_SECONDS and fraction != 1.0:
            return
        self._progress_at = now
        self.output.append(progress.line_of(message, fraction))

    def emit_output(self, line: str, stream: str = "stdout") -> None:
        """Keep a line of program output in the run's tail and log it (stderr as WARNING)."""
        self.output.append(line if stream == "stdout" else f"[stderr] {line}")
        level = logging.INFO if stream == "stdout" else logging.WARNING
        self.logger.log(level, "%s", line, extra={"in_tail": True})


class JobType(ABC):
    """Base class of every job type; subclasses set the class attributes and `run`."""

    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    # Python code may hang or leak: by default each run forks a child that can be timed
    # out and killed. A type that cannot hang may set False to save the fork (~10 ms) in
    # one-shot runs; `--forever` forks it all the same, so the daemon never runs job code.
    runs_in_child: ClassVar[bool] = True
    # The type's work is a program it starts as a killable process tree of its own
    # (`command`): no runner forks a Python child around it.
    starts_own_process: ClassVar[bool] = False

    def default_parameters(self) -> dict[str, Any]:
        """Every parameter with its default (required ones as null)."""
        return {p.name: p.default for p in self.parameters}

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check `params` against the declaration; return them merged with the defaults."""
        declared = {p.name: p for p in self.parameters}
        for key in params:
            if key not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise InvalidInput(
                    f"parameters.{key}",
                    params[key],
                    f"unknown parameter; {self.name} takes {known}",
                )
        merged = self.default_parameters()
        for key, value in params.items():
            parameter = declared[key]
            if value is None and not parameter.required:
                continue
            if not parameter.accepts(value):
                raise InvalidInput(f"parameters.{key}", value, f"expected {parameter.expected()}")
            merged[key] = value
        for parameter in self.parameters:
            if parameter.required and merged.get(parameter.name) is None:
                raise InvalidInput(
                    f"parameters.{parameter.name}", None, "this parameter is required"
                )
        self.check(merged)
        return merged

    def check(self, params: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Further checks of the merged parameters; raise InvalidInput naming the field."""

    def references(self, params: dict[str, Any]) -> list[Reference]:
        """Definitions the (merged) parameters name; a job naming a missing one is refused."""
        return []

    @abstractmethod
    def run(self, params: dict[str, Any], context: JobContext) -> JobResult | None:
        """Do the work; raise JobFailed (or any exception) to fail the run."""


def parse_parameters_json(text: str) -> dict[str, Any]:
    """Parse `--parameters` JSON into an object, naming the field on error."""
    # The text is never repeated: parameters may hold a password (env of a command).
    shown = f"<{len(text)} characters>"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "parameters", shown, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise InvalidInput(
            "parameters", shown, f"nested deeper than {MAX_NESTING} levels"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise InvalidInput("parameters", shown, f"cannot be read: {exc}".split(";")[0]) from None
    if not isinstance(value, dict):
        raise InvalidInput("parameters", text, 'expected a JSON object like {"key": "value"}')
    refuse_too_deep(value, "parameters")
    return value
