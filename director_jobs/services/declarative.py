"""Declarative definitions in TOML (`director apply` / `director export`) for version control."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.model import DEFAULT_RETRY_DELAY, DEFAULT_TIMEOUT, JobSpec, PeriodSpec
from director_jobs.toml_text import checked_table, section_tables, toml_key, toml_value
from director_jobs.validation import parse_duration, parse_non_negative_int

JOB_KEYS = (
    "type",
    "description",
    "parameters",
    "interval",
    "cron",
    "timezone",
    "timeperiod",
    "disabled",
    "timeout",
    "retries",
    "retry_delay",
    "tags",
    "confirm",
    "memory_limit",
    "requires_command",
    "requires_path",
)
TOP_LEVEL_KEYS = ("jobs", "timeperiods", "imports", "sync_rules")


def load_file(path: Path) -> dict[str, Any]:
    """Read a TOML definitions file; errors name the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise InvalidInput("file", str(path), f"cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("file", str(path), f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; e.g. a UTF-16 file or a binary one
        raise InvalidInput(
            "file", str(path), f"TOML must be UTF-8 text; byte {exc.start}: {exc.reason}"
        ) from None
    except RecursionError:
        raise InvalidInput("file", str(path), "arrays or tables nested too deeply") from None


def parse_jobs(data: Mapping[str, Any]) -> list[JobSpec]:
    """Turn the `[jobs.NAME]` tables into JobSpecs (shape only; the service validates meaning)."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise InvalidInput(
                key, data[key], f"unknown section; expected {', '.join(TOP_LEVEL_KEYS)}"
            )
    tables = section_tables(data, "jobs", "my-job")
    return [job_spec(name, table) for name, table in tables.items()]


def job_spec(name: str, table: Any) -> JobSpec:
    """One `[jobs.NAME]` table as a JobSpec."""
    where = f"jobs.{name}"
    table = checked_table(where, table, JOB_KEYS)
    if "type" not in table:
        raise InvalidInput(f"{where}.type", None, "every job needs a type")

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{where}.{key}", value, "expected a string")
        return value

    def flag(key: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise InvalidInput(f"{where}.{key}", value, "expected true or false")
        return value

    parameters = table.get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidInput(f"{where}.parameters", parameters, "expected a table")
    tags = table.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidInput(f"{where}.tags", tags, "expected a list of strings")
    interval = table.get("interval")
    return JobSpec(
        name=name,
        type=text("type") or "",
        parameters=parameters,
        interval=parse_duration(interval, f"{where}.interval") if interval is not None else None,
        cron=text("cron"),
        timezone=text("timezone"),
        timeperiod=text("timeperiod"),
        disabled=flag("disabled"),
        timeout=parse_duration(table.get("timeout", DEFAULT_TIMEOUT), f"{where}.timeout"),
        retries=parse_non_negative_int(table.get("retries", 0), f"{where}.retries"),
        retry_delay=parse_duration(
            table.get("retry_delay", DEFAULT_RETRY_DELAY), f"{where}.retry_delay", allow_zero=True
        ),
        tags=tuple(tags),
        description=text("description") or "",
        confirm=flag("confirm"),
        memory_limit=_memory_limit(table.get("memory_limit"), f"{where}.memory_limit"),
        requires_command=_words(table.get("requires_command", []), f"{where}.requires_command"),
        requires_path=text("requires_path"),
    )


def _words(value: Any, field: str) -> tuple[str, ...]:
    """A program and its arguments, as a TOML list of strings."""
    if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        raise InvalidInput(
            field, value, "expected a list of strings: the program and its arguments"
        )
    return tuple(value)


def _memory_limit(value: Any, field: str) -> float | None:
    """A per-job memory limit in MiB (> 0), or None."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidInput(field, value, "expected a finite number of MiB greater than zero")
    return float(value)


def export_jobs(specs: list[JobSpec]) -> str:
    """Render job definitions as TOML that `apply` reads back to the same definitions."""
    lines = ["# director-jobs definitions; apply with `director apply FILE`", ""]
    defaults = JobSpec(name="", type="")
    for spec in specs:
        lines.append(f"[jobs.{toml_key(spec.name)}]")
        lines.append(f"type = {toml_value(spec.type)}")
        for key in (
            "description",
            "interval",
            "cron",
            "timezone",
            "timeperiod",
            "disabled",
            "timeout",
            "retries",
            "retry_delay",
            "confirm",
            "memory_limit",
            "requires_path",
        ):
            value = getattr(spec, key)
            if value is not None and value != getattr(defaults, key):
                lines.append(f"{key} = {toml_value(value)}")
        if spec.tags:
            lines.append(f"tags = {toml_value(list(spec.tags))}")
        if spec.requires_command:
            lines.append(f"requires_command = {toml_value(list(spec.requires_command))}")
        if spec.parameters:
            lines.append(f"parameters = {toml_value(spec.parameters)}")
        lines.append("")
    return "\n".join(lines)


PERIOD_KEYS = ("display_name", "ranges", "includes", "excludes", "prefer_includes", "timezone")


def parse_periods(data: Mapping[str, Any]) -> list[PeriodSpec]:
    """Turn the `[timeperiods.NAME]` tables into PeriodSpecs (shape only)."""
    tables = section_tables(data, "timeperiods", "workhours")
    specs = []
    for name, table in tables.items():
        where = f"timeperiods.{name}"
        table = checked_table(where, table, PERIOD_KEYS)
        ranges = table.get("ranges", {})
        if not isinstance(ranges, dict) or not all(isinstance(v, str) for v in ranges.values()):
            raise InvalidInput(
                f"{where}.ranges", ranges, 'expected a table like { monday = "09:00-17:00" }'
            )
        names: dict[str, tuple[str, ...]] = {}
        for key in ("includes", "excludes"):
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidInput(f"{where}.{key}", value, "expected a list of period names")
            names[key] = tuple(value)
        prefer = table.get("prefer_includes", True)
        if not isinstance(prefer, bool):
            raise InvalidInput(f"{where}.prefer_includes", prefer, "expected true or false")
        for key in ("timezone", "display_name"):
            if key in table and not isinstance(table[key], str):
                raise InvalidInput(f"{where}.{key}", table[key], "expected a string")
        specs.append(
            PeriodSpec(
                name=name,
                ranges=dict(ranges),
                includes=names["includes"],
                excludes=names["excludes"],
                prefer_includes=prefer,
                timezone=table.get("timezone"),
                display_name=table.get("display_name"),
            )
        )
    return specs


def export_periods(specs: list[PeriodSpec]) -> str:
    """Render periods as TOML that `apply` reads back to the same definitions."""
    lines: list[str] = []
    for spec in specs:
        lines.append(f"[timeperiods.{toml_key(spec.name)}]")
        if spec.display_name is not None:
            lines.append(f"display_name = {toml_value(spec.display_name)}")
        if spec.timezone is not None:
            lines.append(f"timezone = {toml_value(spec.timezone)}")
        lines.append(f"ranges = {toml_value(spec.ranges)}")
        if spec.includes:
            lines.append(f"includes = {toml_value(list(spec.includes))}")
        if spec.excludes:
            lines.append(f"excludes = {toml_value(list(spec.excludes))}")
        if not spec.prefer_includes:
            lines.append("prefer_includes = false")
        lines.append("")
    return "\n".join(lines)
