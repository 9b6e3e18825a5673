"""The definition of a sync rule, its update policy, and the object types it may create."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

# Icinga 2 object types a rule may fill (the config renderer writes one file per type).
OBJECT_TYPES = ("host", "hostgroup", "service", "servicegroup", "user", "usergroup")


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
