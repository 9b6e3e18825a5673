"""How the pages say things: schedules, durations, ages and statuses in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from director_jobs.model import Job, RunStatus

# The CSS class of each status; the status word is always shown beside its colour.
_STATUS_CLASS = {
    RunStatus.SUCCESS: "ok",
    RunStatus.ERROR: "bad",
    RunStatus.TIMEOUT: "bad",
    RunStatus.ABANDONED: "bad",
    RunStatus.STOPPED: "warn",
    RunStatus.SKIPPED: "muted",
    RunStatus.RUNNING: "run",
    RunStatus.PENDING: "run",
}


def status_class(status: RunStatus | str | None) -> str:
    """`ok`, `bad`, `warn`, `muted` or `run`: the colour of a status ('none' for no run)."""
    if status is None:
        return "none"
    return _STATUS_CLASS.get(RunStatus(status), "muted")


def duration_words(seconds: float | None) -> str:
    """0.42 -> '0.42 s', 75 -> '1 min 15 s', 5400 -> '1 h 30 min', None -> '–'."""
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{seconds:.2g} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def schedule_words(job: Job) -> str:
    """`every 15 min`, `cron 30 3 * * * Europe/Berlin`, or `manual only`."""
    spec = job.spec
    if spec.interval is not None:
        return "every " + duration_words(spec.interval)
    if spec.cron is not None:
        return f"cron {spec.cron}" + (f" {spec.timezone}" if spec.timezone else "")
    return "manual only"


def age_words(then: datetime | None, now: datetime) -> str:
    """How long ago (`3 min ago`) or from now (`in 2 h`) an instant is; '–' for none."""
    if then is None:
        return "–"
    seconds = (now - then).total_seconds()
    if abs(seconds) < 1:
        return "now"
    text = _largest_unit(abs(seconds))
    return f"{text} ago" if seconds > 0 else f"in {text}"


def _largest_unit(seconds: float) -> str:
    """45 -> '45 s', 200 -> '3 min', 7300 -> '2 h', 200000 -> '2 d' (rounded down)."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


@dataclass(frozen=True)
class Instants:
    """Instants as one page writes them: in the server's time zone, and as ages from `now`
    (None: a page without a clock, such as the login form)."""

    zone: tzinfo
    now: datetime | None

    def local(self, value: datetime | None, with_seconds: bool = False) -> str:
        """`2026-12-04 19:09` (with `:31` when asked) in the zone; '–' for none."""
        if value is None:
            return "–"
        shown = value.astimezone(self.zone)
        return shown.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")

    def age(self, value: datetime | None) -> str:
        """`3 min ago`, `in 2 h`; '–' without a clock or an instant."""
        return "–" if self.now is None else age_words(value, self.now)
