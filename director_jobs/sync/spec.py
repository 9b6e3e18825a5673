"""The definition of a sync rule, its update policy, and the object types it may create."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

# Icinga 2 object types a rule may fill (the config renderer writes one file per type).
OBJECT_TYPES = ("host", "hostgroup", "service", "servicegroup", "user", "usergroup")


def object_name_problem(object_type: str, name: str) -> str | None:
    """Why Icinga 2 cannot take `name` for an object of `object_type`, or None when it can.

    `!` separates a service from its host (`web01!http`); no other name may hold one.
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "object names may not contain control characters"
    if object_type == "service":
        host, separator, service = name.partition("!")
        if separator and (not host or not service or "!" in service):
            return "expected SERVICE or HOST!SERVICE with one '!'"
    elif "!" in name:
        return f"{object_type} names may not contain '!'"
    return None


class UpdatePolicy(enum.StrEnum):
    """What a rule does to an object that exists already."""

    MERGE = "merge"  # set the mapped properties, keep the others
    OVERRIDE = "override"  # replace all properties with the mapped ones
    IGNORE = "ignore"  # leave existing objects alone; only create new ones


@dataclass(frozen=True)
class RuleSpec:
    """A sync rule: which source's rows become which objects, and how.

    `properties` maps a property path (`address`, `vars.os`) to a template such as
    `"${ip}"`, a constant, or a list of those; `object_name` names the object.
    """

    name: str
    source: str
    object_type: str
    properties: dict[str, Any] = field(default_factory=dict)
    filter: str | None = None
    update_policy: UpdatePolicy = UpdatePolicy.MERGE
    purge: bool = False
    description: str = ""
    # Largest share of the rule's objects one run may delete; None: DEFAULT_MAX_PURGE.
    max_purge: float | None = None


# A run that would delete more than a fifth of what the rule made is refused: a source
# that lost rows should not take the monitoring with it. `max_purge = "100%"` allows it.
DEFAULT_MAX_PURGE = 0.2
