"""The row filter's expression tree and how each node decides on a row.

Comparisons are forgiving about types because CSV columns are always text:
`cpus = 4` matches "4" and 4, `active = true` matches true and "true", `ip = null`
matches a missing column, null and "". On a list column (after a `split` modifier)
`=`, `~` and `in` hold when any element does.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]


class Expr(ABC):
    """A node of the tree."""

    @abstractmethod
    def matches(self, row: Row) -> bool:
        """True when the row passes."""


@dataclass(frozen=True)
class Equals(Expr):
    """`column = literal` (or `!=` with negate)."""

    column: str
    literal: Any
    negate: bool = False

    def matches(self, row: Row) -> bool:
        """Compare the column's value with the literal."""
        return equals(row.get(self.column), self.literal) != self.negate


@dataclass(frozen=True)
class Matches(Expr):
    """`column ~ "regex"` (re.search; `!~` with negate)."""

    column: str
    pattern: re.Pattern[str]
    negate: bool = False

    def matches(self, row: Row) -> bool:
        """Search the column's text for the pattern."""
        value = row.get(self.column)
        values = value if isinstance(value, list) else [value]
        found = any(v is not None and self.pattern.search(text_of(v)) for v in values)
        return found != self.negate


@dataclass(frozen=True)
class InList(Expr):
    """`column in [a, b]` (or `not in`)."""

    column: str
    literals: tuple[Any, ...]
    negate: bool = False

    def matches(self, row: Row) -> bool:
        """True when the value equals any literal."""
        value = row.get(self.column)
        return any(equals(value, literal) for literal in self.literals) != self.negate


@dataclass(frozen=True)
class And(Expr):
    """Every part holds."""

    parts: tuple[Expr, ...]

    def matches(self, row: Row) -> bool:
        """All parts match."""
        return all(part.matches(row) for part in self.parts)


@dataclass(frozen=True)
class Or(Expr):
    """Any part holds."""

    parts: tuple[Expr, ...]

    def matches(self, row: Row) -> bool:
        """Any part matches."""
        return any(part.matches(row) for part in self.parts)


@dataclass(frozen=True)
class Not(Expr):
    """The part does not hold."""

    part: Expr

    def matches(self, row: Row) -> bool:
        """The part does not match."""
        return not self.part.matches(row)


def equals(value: Any, literal: Any) -> bool:
    """Equality of a row value and a literal, with text columns read as the literal's type."""
    if isinstance(value, list):
        return any(equals(v, literal) for v in value)
    if literal is None:
        return value is None or value == ""
    if isinstance(literal, bool):
        if isinstance(value, str):
            return value.strip().lower() == ("true" if literal else "false")
        return isinstance(value, bool) and value == literal
    if isinstance(literal, int | float):
        return bool(_number(value) == literal)
    if isinstance(value, str):
        return bool(value == literal)
    if isinstance(value, bool | int | float):
        return text_of(value) == literal or _number(literal) == _number(value)
    return False


def text_of(value: Any) -> str:
    """A value as text: booleans as true/false, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _number(value: Any) -> float | None:
    """A number from a number or numeric text; None otherwise (booleans are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
