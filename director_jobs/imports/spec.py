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
    # Largest share of rows an import may lose against the previous run; None: the default
    # (DEFAULT_MAX_SHRINK, and never down to none); 1.0: any (`allow_shrink = true`).
    max_shrink: float | None = None


# An import that loses more than half of the rows it had, or all of them, is refused: a
# truncated export must not make the sync delete what it no longer sees.
DEFAULT_MAX_SHRINK = 0.5
