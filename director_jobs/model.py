"""Domain records shared by the core, the database layer and the CLI."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class RunStatus(enum.StrEnum):
    """Outcome (or state) of one run."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"
    STOPPED = "stopped"
    ABANDONED = "abandoned"
    SKIPPED = "skipped"

    @property
    def failed(self) -> bool:
        """True for outcomes that count as a failure of the job."""
        return self in (RunStatus.ERROR, RunStatus.TIMEOUT, RunStatus.ABANDONED)


class Trigger(enum.StrEnum):
    """Why a run started."""

    SCHEDULE = "schedule"
    MANUAL = "manual"
    RETRY = "retry"
    EXECUTE = "execute"


# The output tail kept per run: enough for a stack trace and the last lines of a
# chatty command, small enough that 100 runs per job stay well under 10 MiB.
OUTPUT_TAIL_BYTES = 64 * 1024

DEFAULT_TIMEOUT = 3600.0
DEFAULT_RETRY_DELAY = 60.0


@dataclass(frozen=True)
class JobSpec:
    """A job definition as the user states it (what `add`, `set` and `apply` write)."""

    name: str
    type: str
    parameters: dict[str, Any] = field(default_factory=dict)
    interval: float | None = None
    cron: str | None = None
    timezone: str | None = None
    timeperiod: str | None = None
    disabled: bool = False
    timeout: float = DEFAULT_TIMEOUT
    retries: int = 0
    retry_delay: float = DEFAULT_RETRY_DELAY
    tags: tuple[str, ...] = ()
    description: str = ""
    confirm: bool = False
    memory_limit: float | None = None  # MiB of RSS for the job's whole process tree
    # Preconditions checked just before each start; one that fails skips the start
    # visibly (a `skipped` run with the reason). () and None: none.
    requires_command: tuple[str, ...] = ()  # a program and its arguments that must exit 0
    requires_path: str | None = None  # an absolute path that must exist


@dataclass(frozen=True)
class Job:
    """A stored job: its definition plus the scheduling state the runner keeps."""

    id: int
    spec: JobSpec
    created_at: datetime
    updated_at: datetime
    last_attempt_at: datetime | None
    next_due_at: datetime | None
    attempt: int
    pending_trigger: Trigger | None
    claimed_by: str | None

    @property
    def name(self) -> str:
        """The job's unique name."""
        return self.spec.name


@dataclass(frozen=True)
class Run:
    """One execution of a job, as stored."""

    id: int
    job_name: str
    job_type: str
    status: RunStatus
    trigger: Trigger
    attempt: int
    scheduled_for: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration: float | None
    exit_code: int | None
    error: str | None
    output: str
    runner: str | None
    stopped_by: str | None = None  # who asked for the stop (`cli:root`, `api:ci`)
    output_lines: int = 0  # lines appended to `output` in all (it keeps only the last ones)
    parameters: dict[str, Any] | None = None  # a trigger's own, merged over the job's
    progress: str | None = None  # the newest progress the job reported, as `40% copying`


@dataclass(frozen=True)
class RunSummary:
    """What a job overview shows of its last run (no output: that may be 64 KiB a run)."""

    id: int
    status: RunStatus
    trigger: Trigger
    started_at: datetime | None
    finished_at: datetime | None
    duration: float | None
    exit_code: int | None
    error: str | None


@dataclass(frozen=True)
class RunEvent:
    """A run that started or ended, as notifications describe it (no output, no secrets)."""

    event: str  # "started" or "finished"
    run_id: int
    job_name: str
    job_type: str
    tags: tuple[str, ...]
    status: RunStatus
    trigger: Trigger
    attempt: int
    started_at: datetime | None
    finished_at: datetime | None = None
    duration: float | None = None
    exit_code: int | None = None
    error: str | None = None
    last_line: str = ""  # the output's last non-empty line (an Icinga check's output)
    final: bool = True  # False when a retry of this failure is pending


@dataclass(frozen=True)
class PeriodSpec:
    """A time period as the user states it: Icinga 2 TimePeriod attributes plus a zone."""

    name: str
    ranges: dict[str, str] = field(default_factory=dict)
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    prefer_includes: bool = True
    timezone: str | None = None
    display_name: str | None = None
