"""Logging set-up: colour on a terminal, plain text elsewhere, journald when stderr is journal."""

from __future__ import annotations

import enum
import logging
import os
import sys
from typing import Any, TextIO

TRACE = 5  # below DEBUG: per-row detail that even --debug does not want
logging.addLevelName(TRACE, "TRACE")

LEVELS = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

# Job fields attached to log records (logging `extra`) and, in journald, sent as fields.
JOB_FIELDS = ("job_name", "job_type", "run_id", "run_status")
# Fields of a run's start and end lines, and the event kind: journald only (TRIGGER=…).
RUN_FIELDS = ("trigger", "attempt", "duration", "exit_code", "message_id")
JOURNAL_FIELDS = JOB_FIELDS + RUN_FIELDS


class MessageId(enum.StrEnum):
    """journald MESSAGE_ID of each event kind, fixed for good: `journalctl MESSAGE_ID=…`."""

    RUN_STARTED = "770b5350984f411085e9e86ea1bdc0a3"
    RUN_SUCCEEDED = "6155c63be32f4b34a12b6903c481d00c"
    RUN_FAILED = "0617081b842a4ef9879cf3e4bb179629"  # any end but success: error, timeout, stopped
    RUN_SKIPPED = "b973cec7f2dd44089b5b6e6082ca5ff8"  # a precondition did not hold
    RECYCLE = "a4275739781a47a5be7975cd6b0d44f5"
    OUTAGE_BEGAN = "64d8916ddb71491cad76be599a4244de"
    OUTAGE_ENDED = "638c0e43f29f49cc87431e8d6a8354a2"


# Level names fit five columns, so that messages line up: [TRACE] [DEBUG] [INFO ] [WARN ]
# [ERROR] [CRIT ], on a terminal and in a pipe alike (journald gets PRIORITY= instead).
SHORT_NAMES = {"WARNING": "WARN", "CRITICAL": "CRIT"}
SHORT_FORMAT = "[%(level)-5s] %(message)s"
TIMED_FORMAT = "%(asctime)s [%(level)-5s] %(message)s"


class _ShortLevelNames(logging.Filter):
    """Gives each record `level`: its level name in at most five letters."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.level = SHORT_NAMES.get(record.levelname, record.levelname)
        return True


def stderr_is_journal(stream: TextIO) -> bool:
    """True when `stream` is connected to journald (systemd sets JOURNAL_STREAM=dev:inode)."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    if not expected:
        return False
    try:
        stat = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return expected == f"{stat.st_dev}:{stat.st_ino}"


def job_extra(
    job_name: str,
    job_type: str,
    run_id: int | None,
    run_status: str | None = None,
    *,
    message_id: MessageId | None = None,
    trigger: str | None = None,
    attempt: int | None = None,
    duration: float | None = None,
    exit_code: int | None = None,
) -> dict[str, Any]:
    """The `extra` dict that carries job fields (and a run's start or end fields) into records."""
    extra: dict[str, Any] = {"job_name": job_name, "job_type": job_type, "run_id": run_id}
    optional = {
        "run_status": run_status,
        "message_id": message_id,
        "trigger": trigger,
        "attempt": attempt,
        "duration": None if duration is None else f"{duration:.3f}",
        "exit_code": exit_code,
    }
    extra.update({name: value for name, value in optional.items() if value is not None})
    return extra


def event_extra(message_id: MessageId) -> dict[str, Any]:
    """The `extra` dict of a line that is an event of its own (a recycle, an outage)."""
    return {"message_id": message_id}


def _journal_handler() -> logging.Handler:
    """A JournalHandler that sends our job fields as journald fields (JOB_NAME=…)."""
    from systemd import journal

    class JobFieldsJournalHandler(journal.JournalHandler):  # type: ignore[misc]
        """Sends the records' job fields as journald fields JOB_NAME, RUN_ID, MESSAGE_ID, …."""

        def emit(self, record: logging.LogRecord) -> None:
            """Copy job fields to upper-case record attributes, which become journal fields."""
            for name in JOURNAL_FIELDS:
                value = getattr(record, name, None)
                if value is not None:
                    setattr(record, name.upper(), str(value))
            super().emit(record)

    return JobFieldsJournalHandler(SYSLOG_IDENTIFIER="director-jobs")


def setup_logging(level: int, *, stream: TextIO | None = None, timestamps: bool = True) -> None:
    """Install one handler on the root logger; call once per process."""
    stream = stream or sys.stderr
    fmt = TIMED_FORMAT if timestamps else SHORT_FORMAT
    handler: logging.Handler
    if stderr_is_journal(stream):
        try:
            handler = _journal_handler()
            handler.setFormatter(logging.Formatter("%(message)s"))
        except ImportError:
            handler = logging.StreamHandler(stream)
            handler.setFormatter(logging.Formatter(SHORT_FORMAT))
    elif stream.isatty() and not os.environ.get("NO_COLOR"):
        import colorlog

        handler = colorlog.StreamHandler(stream)
        handler.setFormatter(
            colorlog.ColoredFormatter(
                "%(log_color)s" + fmt + "%(reset)s",
                log_colors={
                    "TRACE": "thin_white",
                    "DEBUG": "cyan",
                    "INFO": "green",
                    "WARNING": "yellow",
                    "ERROR": "red",
                    "CRITICAL": "bold_red",
                },
            )
        )
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(fmt, datefmt="%Y-%m-%d %H:%M:%S"))
    handler.addFilter(_ShortLevelNames())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
