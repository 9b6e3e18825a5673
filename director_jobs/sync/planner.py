"""Plan a sync: compare what the rows say with the stored objects, change by change."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from director_jobs.sync.errors import SyncFailed
from director_jobs.sync.policy import build_tree, updated_properties
from director_jobs.sync.rule import CompiledRule
from director_jobs.sync.spec import object_name_problem

MAX_NAME_LENGTH = 255  # objects.name is VARCHAR(255)


class ChangeAction(enum.StrEnum):
    """What happens to one object (the values stored in object_changes.action)."""

    CREATED = "created"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass(frozen=True)
class StoredObject:
    """An object as the planner needs it."""

    id: int
    name: str
    properties: dict[str, Any]
    owner_rule: str | None


@dataclass(frozen=True)
class Change:
    """One planned change with the properties before and after (None when absent)."""

    action: ChangeAction
    object_type: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    object_id: int | None = None


@dataclass(frozen=True)
class Counts:
    """How many objects a plan creates, modifies and deletes."""

    created: int
    modified: int
    deleted: int

    def text(self) -> str:
        """`3 create / 1 modify / 0 delete`."""
        return f"{self.created} create / {self.modified} modify / {self.deleted} delete"


def count(changes: list[Change]) -> Counts:
    """Count the changes by action."""
    actions = [c.action for c in changes]
    return Counts(
        actions.count(ChangeAction.CREATED),
        actions.count(ChangeAction.MODIFIED),
        actions.count(ChangeAction.DELETED),
    )


def plan_changes(
    rule: CompiledRule,
    rows: Mapping[str, Mapping[str, Any]],
    existing: Mapping[str, StoredObject],
) -> list[Change]:
    """Creates and modifies in key order, then the purge's deletes by name."""
    spec = rule.spec
    changes: list[Change] = []
    seen: dict[str, str] = {}  # object name -> the row key that produced it
    for key in sorted(rows):
        row = rows[key]
        if rule.filter is not None and not rule.filter.matches(row):
            continue
        name = _object_name(rule, row, key)
        if name in seen:
            raise SyncFailed(
                spec.name, f"rows {seen[name]!r} and {key!r} both map to object {name!r}"
            )
        seen[name] = key
        rendered = rule.mapping.render(row)
        current = existing.get(name)
        if current is None:
            changes.append(
                Change(ChangeAction.CREATED, spec.object_type, name, None, build_tree(rendered))
            )
            continue
        after = updated_properties(spec.update_policy, current.properties, rendered)
        if after != current.properties:
            changes.append(
                Change(
                    ChangeAction.MODIFIED,
                    spec.object_type,
                    name,
                    current.properties,
                    after,
                    current.id,
                )
            )
    if spec.purge:
        for name in sorted(existing):
            stored = existing[name]
            if stored.owner_rule == spec.name and name not in seen:
                changes.append(
                    Change(
                        ChangeAction.DELETED,
                        spec.object_type,
                        name,
                        stored.properties,
                        None,
                        stored.id,
                    )
                )
    return changes


def _object_name(rule: CompiledRule, row: Mapping[str, Any], key: str) -> str:
    """The row's object name; SyncFailed names the row when it has none."""
    value = rule.mapping.name_for(row)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SyncFailed(
            rule.spec.name, f"row {key!r} gives no object_name (a placeholder's column is empty)"
        )
    name = str(value)
    if not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise SyncFailed(
            rule.spec.name,
            f"row {key!r} gives object_name {name[:40]!r}: expected 1-{MAX_NAME_LENGTH} characters",
        )
    # Refused here, a bad CMDB row fails this sync; stored, it would fail every deployment.
    problem = object_name_problem(rule.spec.object_type, name)
    if problem is not None:
        raise SyncFailed(rule.spec.name, f"row {key!r} gives object_name {name!r}: {problem}")
    return name
