"""The edit forms' fields turned into definitions, with the CLI's checks and messages.

A form sends text; this module parses it into a JobSpec or PeriodSpec and raises
InvalidInput naming the form field, which the page shows beside that field. The rest
(cron, time zone, time period, parameters of the type) the services check, as for
`jobs add`.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.model import DEFAULT_RETRY_DELAY, DEFAULT_TIMEOUT, JobSpec, PeriodSpec
from director_jobs.secrets import MASK, masked
from director_jobs.validation import (
    command_words,
    parse_duration,
    refuse_too_deep,
    validate_name,
)


def json_object(text: str, field: str) -> dict[str, Any]:
    """A JSON object typed into a textarea ('' is {})."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(field, None, f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(value, dict):
        raise InvalidInput(field, None, 'expected a JSON object such as {"key": "value"}')
    refuse_too_deep(value, field)
    return value


def unmasked(new: Any, old: Any) -> Any:
    """The form's parameters with every '***' the page showed put back to the stored value."""
    if isinstance(new, dict) and isinstance(old, dict):
        return {key: unmasked(value, old.get(key)) for key, value in new.items()}
    return old if new == MASK and old is not None else new


def _number(text: str, field: str, kind: type[int] | type[float]) -> Any:
    """A whole number or a number typed into `field`."""
    try:
        return kind(text.strip())
    except ValueError:
        expected = "a whole number" if kind is int else "a number"
        raise InvalidInput(field, text, f"expected {expected}") from None


def _optional(text: str | None) -> str | None:
    """A field's text without spaces, or None when it is empty or was not sent."""
    return (text or "").strip() or None


def job_spec(name: str, form: dict[str, str], stored: JobSpec | None = None) -> JobSpec:
    """The JobSpec a job form states (`stored`: the job being edited, for masked secrets)."""
    validate_name(name)
    parameters = json_object(form.get("parameters", ""), "parameters")
    if stored is not None:
        parameters = unmasked(parameters, stored.parameters)
    interval_text = _optional(form.get("interval"))
    memory_text = _optional(form.get("memory_limit"))
    memory = None if memory_text is None else _number(memory_text, "memory_limit", float)
    if memory is not None and memory < 0:
        raise InvalidInput("memory_limit", memory_text, "expected MiB > 0 (0 removes the limit)")
    tags = tuple(t.strip() for t in form.get("tags", "").split(",") if t.strip())
    return JobSpec(
        name=name,
        type=form.get("type", "").strip(),
        parameters=parameters,
        interval=None if interval_text is None else parse_duration(interval_text, "interval"),
        cron=_optional(form.get("cron")),
        timezone=_optional(form.get("timezone")),
        timeperiod=_optional(form.get("timeperiod")),
        disabled=form.get("disabled") == "on",
        timeout=parse_duration(form.get("timeout") or str(DEFAULT_TIMEOUT), "timeout"),
        retries=_number(form.get("retries") or "0", "retries", int),
        retry_delay=parse_duration(
            form.get("retry_delay") or str(DEFAULT_RETRY_DELAY), "retry_delay", allow_zero=True
        ),
        tags=tags,
        description=form.get("description", "").strip(),
        confirm=form.get("confirm") == "on",
        memory_limit=memory or None,
        requires_command=command_words(form.get("requires_command", ""), "requires_command"),
        requires_path=_optional(form.get("requires_path")),
    )


def job_form_values(spec: JobSpec) -> dict[str, str]:
    """A stored job as the form shows it (secrets as '***')."""
    return {
        "name": spec.name,
        "type": spec.type,
        "parameters": json.dumps(masked(spec.parameters), indent=2) if spec.parameters else "",
        "interval": "" if spec.interval is None else f"{spec.interval:g}",
        "cron": spec.cron or "",
        "timezone": spec.timezone or "",
        "timeperiod": spec.timeperiod or "",
        "disabled": "on" if spec.disabled else "",
        "timeout": f"{spec.timeout:g}",
        "retries": str(spec.retries),
        "retry_delay": f"{spec.retry_delay:g}",
        "tags": ", ".join(spec.tags),
        "description": spec.description,
        "confirm": "on" if spec.confirm else "",
        "memory_limit": "" if spec.memory_limit is None else f"{spec.memory_limit:g}",
        "requires_command": shlex.join(spec.requires_command),
        "requires_path": spec.requires_path or "",
    }


def period_spec(name: str, form: dict[str, str]) -> PeriodSpec:
    """The PeriodSpec a time period form states; ranges one `key = value` per line."""
    validate_name(name)
    ranges: dict[str, str] = {}
    for number, line in enumerate(form.get("ranges", "").splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(
                "ranges",
                line.strip(),
                f"line {number}: expected KEY = VALUE, e.g. monday = 09:00-17:00",
            )
        ranges[key.strip()] = value.strip()
    includes = tuple(n.strip() for n in form.get("includes", "").split(",") if n.strip())
    excludes = tuple(n.strip() for n in form.get("excludes", "").split(",") if n.strip())
    return PeriodSpec(
        name=name,
        ranges=ranges,
        includes=includes,
        excludes=excludes,
        prefer_includes=form.get("prefer_includes", "on") == "on",
        timezone=_optional(form.get("timezone")),
        display_name=_optional(form.get("display_name")),
    )


def period_form_values(spec: PeriodSpec) -> dict[str, str]:
    """A stored period as the form shows it."""
    return {
        "name": spec.name,
        "ranges": "\n".join(f"{key} = {value}" for key, value in spec.ranges.items()),
        "includes": ", ".join(spec.includes),
        "excludes": ", ".join(spec.excludes),
        "prefer_includes": "on" if spec.prefer_includes else "",
        "timezone": spec.timezone or "",
        "display_name": spec.display_name or "",
    }
