"""`[imports.NAME]` tables of a definitions file: parse (shape only) and export back to TOML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.imports.spec import SourceSpec
from director_jobs.toml_text import checked_table, section_tables, toml_key, toml_value
from director_jobs.validation import parse_share, share_text

SECTION = "imports"
SOURCE_KEYS = ("provider", "key_column", "description", "settings", "modifiers", "allow_shrink")


def parse_sources(data: Mapping[str, Any]) -> list[SourceSpec]:
    """Turn the `[imports.NAME]` tables into SourceSpecs (ImportService.validate checks meaning)."""
    tables = section_tables(data, SECTION, "cmdb")
    return [_source(name, table) for name, table in tables.items()]


def _source(name: str, table: Any) -> SourceSpec:
    """One `[imports.NAME]` table."""
    where = f"{SECTION}.{name}"
    table = checked_table(where, table, SOURCE_KEYS)
    for key in ("provider", "key_column"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise InvalidInput(f"{where}.{key}", table.get(key), "expected a non-empty string")
    description = table.get("description", "")
    if not isinstance(description, str):
        raise InvalidInput(f"{where}.description", description, "expected a string")
    settings = table.get("settings", {})
    if not isinstance(settings, dict):
        raise InvalidInput(f"{where}.settings", settings, "expected a table")
    modifiers = table.get("modifiers", [])
    if not isinstance(modifiers, list) or not all(isinstance(m, dict) for m in modifiers):
        raise InvalidInput(
            f"{where}.modifiers",
            modifiers,
            'expected a list of tables like { column = "hostname", modifier = "lowercase" }',
        )
    allow_shrink = table.get("allow_shrink", False)
    return SourceSpec(
        name=name,
        provider=table["provider"],
        key_column=table["key_column"],
        settings=dict(settings),
        modifiers=tuple(dict(m) for m in modifiers),
        description=description,
        max_shrink=None
        if allow_shrink is False
        else parse_share(allow_shrink, f"{where}.allow_shrink"),
    )


def export_sources(specs: Sequence[SourceSpec]) -> str:
    """Render sources as TOML that `parse_sources` reads back to the same specs."""
    lines: list[str] = []
    for spec in specs:
        where = f"{SECTION}.{toml_key(spec.name)}"
        lines.append(f"[{where}]")
        lines.append(f"provider = {toml_value(spec.provider)}")
        lines.append(f"key_column = {toml_value(spec.key_column)}")
        if spec.description:
            lines.append(f"description = {toml_value(spec.description)}")
        if spec.max_shrink is not None:
            shown = "true" if spec.max_shrink >= 1 else toml_value(share_text(spec.max_shrink))
            lines.append(f"allow_shrink = {shown}")
        lines.append("")
        if spec.settings:
            lines.append(f"[{where}.settings]")
            lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in spec.settings.items())
            lines.append("")
        for modifier in spec.modifiers:
            lines.append(f"[[{where}.modifiers]]")
            lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in modifier.items())
            lines.append("")
    return "\n".join(lines)
