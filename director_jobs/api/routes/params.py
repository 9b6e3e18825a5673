"""Parsers for path and query values that the services do not parse themselves."""

from __future__ import annotations

from datetime import datetime

from director_jobs.errors import InvalidInput
from director_jobs.model import RunStatus
from director_jobs.validation import validate_name


def name(value: str, field: str = "name") -> str:
    """A job or period name from the path (refuses '..', slashes, anything odd)."""
    return validate_name(value, field)


def run_status(value: str | None, field: str = "status") -> RunStatus | None:
    """A run status from the query, or None."""
    if value is None:
        return None
    try:
        return RunStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in RunStatus)
        raise InvalidInput(field, value, f"expected one of {known}") from None


def instant(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 time with an offset (2026-12-03T08:00:00Z), or None."""
    return None if value is None else required_instant(value, field)


def required_instant(value: str, field: str) -> datetime:
    """An ISO 8601 time with an offset; a time without one would be ambiguous."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(
            field, value, "expected an ISO 8601 time with an offset, e.g. 2026-12-03T08:00:00Z"
        )
    return parsed


def count(value: str, field: str) -> int:
    """A whole number of 0 or more (a header's value is text)."""
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise InvalidInput(field, value, "expected a whole number of 0 or more")
    return int(value)
