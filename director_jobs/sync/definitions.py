"""`[sync_rules.NAME]` tables of a definitions file: parse (shape only) and export to TOML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.sync.mapping import flatten_properties
from director_jobs.sync.spec import RuleSpec, UpdatePolicy
from director_jobs.toml_text import checked_table, section_tables, toml_key, toml_value
from director_jobs.validation import parse_share, share_text

SECTION = "sync_rules"
RULE_KEYS = (
    "source",
    "object_type",
    "properties",
    "filter",
    "update_policy",
    "purge",
    "max_purge",
    "description",
)


def parse_rules(data: Mapping[str, Any]) -> list[RuleSpec]:
    """Turn the `[sync_rules.NAME]` tables into RuleSpecs (SyncService.validate checks meaning)."""
    tables = section_tables(data, SECTION, "hosts")
    return [_rule(name, table) for name, table in tables.items()]


def _rule(name: str, table: Any) -> RuleSpec:
    """One `[sync_rules.NAME]` table."""
    where = f"{SECTION}.{name}"
    table = checked_table(where, table, RULE_KEYS)
    for key in ("source", "object_type"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise InvalidInput(f"{where}.{key}", table.get(key), "expected a non-empty string")
    for key in ("filter", "description"):
        if key in table and not isinstance(table[key], str):
            raise InvalidInput(f"{where}.{key}", table[key], "expected a string")
    properties = table.get("properties")
    if not isinstance(properties, dict):
        raise InvalidInput(
            f"{where}.properties",
            properties,
            'expected a table like { object_name = "${hostname}" }',
        )
    policy = table.get("update_policy", UpdatePolicy.MERGE.value)
    if policy not in {p.value for p in UpdatePolicy}:
        raise InvalidInput(
            f"{where}.update_policy", policy, f"expected one of {', '.join(UpdatePolicy)}"
        )
    purge = table.get("purge", False)
    if not isinstance(purge, bool):
        raise InvalidInput(f"{where}.purge", purge, "expected true or false")
    return RuleSpec(
        name=name,
        source=table["source"],
        object_type=table["object_type"],
        properties=flatten_properties(properties),
        filter=table.get("filter"),
        update_policy=UpdatePolicy(policy),
        purge=purge,
        description=table.get("description", ""),
        max_purge=parse_share(table["max_purge"], f"{where}.max_purge")
        if "max_purge" in table
        else None,
    )


def export_rules(specs: Sequence[RuleSpec]) -> str:
    """Render rules as TOML that `parse_rules` reads back to the same specs."""
    lines: list[str] = []
    for spec in specs:
        where = f"{SECTION}.{toml_key(spec.name)}"
        lines.append(f"[{where}]")
        lines.append(f"source = {toml_value(spec.source)}")
        lines.append(f"object_type = {toml_value(spec.object_type)}")
        lines.append(f"update_policy = {toml_value(spec.update_policy.value)}")
        if spec.purge:
            lines.append("purge = true")
        if spec.max_purge is not None:
            lines.append(f"max_purge = {toml_value(share_text(spec.max_purge))}")
        if spec.filter is not None:
            lines.append(f"filter = {toml_value(spec.filter)}")
        if spec.description:
            lines.append(f"description = {toml_value(spec.description)}")
        lines.append("")
        lines.append(f"[{where}.properties]")
        lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in spec.properties.items())
        lines.append("")
    return "\n".join(lines)
