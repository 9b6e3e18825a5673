"""The definition of an import source, as `director apply` states it and the table stores it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROVIDERS = ("csv", "json", "sql")


@dataclass(frozen=True)
class SourceSpec:
    """An import source: where rows come from, which column keys them, how columns change.

    `modifiers` is a list of `{"column": c, "modifier": m, …arguments}` applied in order.
    """

    name: str
    provider: str
    key_column: str
    settings: dict[str, Any] = field(default_factory=dict)
    modifiers: tuple[dict[str, Any], ...] = ()
    description: str = ""
