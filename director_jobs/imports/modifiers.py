"""Property modifiers: small steps that change one column of every row, applied in order.

Each kind is one class that checks its own arguments. Value modifiers (lowercase,
uppercase, strip, regex_replace, map) change strings and the strings inside lists
(after `split`); other values (numbers, booleans, null) pass unchanged.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from director_jobs.errors import InvalidInput

Row = dict[str, Any]


class Modifier(ABC):
    """One step: its name, its arguments, and `apply(row)` which changes the row in place."""

    name: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()

    def __init__(self, column: str, arguments: Mapping[str, Any], where: str) -> None:
        self.column = column
        self.where = where
        allowed = self.required + self.optional
        for key in arguments:
            if key not in allowed:
                expected = ", ".join(allowed) if allowed else "no arguments"
                raise InvalidInput(
                    f"{where}.{key}", arguments[key], f"unknown key; {self.name} takes {expected}"
                )
        for key in self.required:
            if key not in arguments:
                raise InvalidInput(f"{where}.{key}", None, f"{self.name} needs {key}")
        self.setup(arguments)

    def setup(self, arguments: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Check and keep the arguments; raise InvalidInput naming `where.KEY`."""

    def apply(self, row: Row) -> None:
        """Change the row's column in place (a missing column stays missing)."""
        if self.column in row:
            row[self.column] = self.change(row[self.column])

    def change(self, value: Any) -> Any:
        """The new value: strings converted, lists element by element, the rest unchanged."""
        if isinstance(value, str):
            return self.convert(value)
        if isinstance(value, list):
            return [self.convert(v) if isinstance(v, str) else v for v in value]
        return value

    @abstractmethod
    def convert(self, value: str) -> Any:
        """Convert one string."""


class Lowercase(Modifier):
    """`Web01.Example.COM` → `web01.example.com`."""

    name = "lowercase"

    def convert(self, value: str) -> Any:
        """Lower-case the string."""
        return value.lower()


class Uppercase(Modifier):
    """`de` → `DE`."""

    name = "uppercase"

    def convert(self, value: str) -> Any:
        """Upper-case the string."""
        return value.upper()


class Strip(Modifier):
    """Remove leading and trailing whitespace."""

    name = "strip"

    def convert(self, value: str) -> Any:
        """Strip whitespace at both ends."""
        return value.strip()


class RegexReplace(Modifier):
    r"""`pattern = '\.example\.com$'`, `replacement = ''` turns FQDNs into short names."""

    name = "regex_replace"
    required = ("pattern",)
    optional = ("replacement",)

    def setup(self, arguments: Mapping[str, Any]) -> None:
        """Compile the pattern and check the replacement's group references."""
        pattern = arguments["pattern"]
        replacement = arguments.get("replacement", "")
        if not isinstance(pattern, str):
            raise InvalidInput(f"{self.where}.pattern", pattern, "expected a regular expression")
        if not isinstance(replacement, str):
            raise InvalidInput(f"{self.where}.replacement", replacement, "expected a string")
        try:
            self.pattern = re.compile(pattern)
        except re.error as exc:
            raise InvalidInput(f"{self.where}.pattern", pattern, f"bad regex: {exc}") from None
        try:
            self.pattern.sub(replacement, "")  # parses the template: \1 beyond the groups fails
        except (re.error, IndexError) as exc:
            raise InvalidInput(
                f"{self.where}.replacement", replacement, f"bad replacement: {exc}"
            ) from None
        self.replacement = replacement

    def convert(self, value: str) -> Any:
        """Replace every match."""
        return self.pattern.sub(self.replacement, value)


class Default(Modifier):
    """Fill `value` in where the column is missing, null or an empty string."""

    name = "default"
    required = ("value",)

    def setup(self, arguments: Mapping[str, Any]) -> None:
        """Keep the default value (any JSON value)."""
        self.value = arguments["value"]

    def apply(self, row: Row) -> None:
        """Set the default when the column has no value."""
        if row.get(self.column) in (None, ""):
            row[self.column] = self.value

    def convert(self, value: str) -> Any:  # pragma: no cover - apply() is overridden
        """Unused: defaults act on the whole row."""
        return value


class Split(Modifier):
    """`"web, db"` → `["web", "db"]`: split on `separator`, strip parts, drop empty ones."""

    name = "split"
    optional = ("separator",)

    def setup(self, arguments: Mapping[str, Any]) -> None:
        """Keep the separator (default ',')."""
        separator = arguments.get("separator", ",")
        if not isinstance(separator, str) or not separator:
            raise InvalidInput(f"{self.where}.separator", separator, "expected a non-empty string")
        self.separator = separator

    def change(self, value: Any) -> Any:
        """Split strings only (a list stays as it is)."""
        return self.convert(value) if isinstance(value, str) else value

    def convert(self, value: str) -> Any:
        """Split, strip each part and drop empty parts."""
        return [part.strip() for part in value.split(self.separator) if part.strip()]


class MapValues(Modifier):
    """Look values up in `map`; unmapped ones become `default` when given, else stay as they are."""

    name = "map"
    required = ("map",)
    optional = ("default",)

    def setup(self, arguments: Mapping[str, Any]) -> None:
        """Keep the dictionary and the default."""
        table = arguments["map"]
        if not isinstance(table, dict) or not all(isinstance(k, str) for k in table):
            raise InvalidInput(
                f"{self.where}.map", table, 'expected a table like { deb = "linux" }'
            )
        self.table = dict(table)
        self.has_default = "default" in arguments
        self.default = arguments.get("default")

    def convert(self, value: str) -> Any:
        """The mapped value, the default, or the value unchanged."""
        if value in self.table:
            return self.table[value]
        return self.default if self.has_default else value


MODIFIERS: dict[str, type[Modifier]] = {
    cls.name: cls for cls in (Lowercase, Uppercase, Strip, RegexReplace, Default, Split, MapValues)
}


def build_modifiers(specs: Sequence[Mapping[str, Any]], where: str) -> list[Modifier]:
    """Modifier objects for `[{"column": …, "modifier": …, …}]`; errors name `where[i].key`."""
    built = []
    for index, spec in enumerate(specs):
        here = f"{where}[{index}]"
        if not isinstance(spec, Mapping):
            raise InvalidInput(here, spec, 'expected a table like { column = "x", modifier = "y" }')
        column = spec.get("column")
        if not isinstance(column, str) or not column:
            raise InvalidInput(f"{here}.column", column, "expected a column name")
        kind = spec.get("modifier")
        if kind not in MODIFIERS:
            raise InvalidInput(f"{here}.modifier", kind, f"expected one of {', '.join(MODIFIERS)}")
        arguments = {k: v for k, v in spec.items() if k not in ("column", "modifier")}
        built.append(MODIFIERS[kind](column, arguments, here))
    return built


def apply_modifiers(modifiers: Sequence[Modifier], row: Row) -> Row:
    """Apply every modifier in order to `row` (changed in place) and return it."""
    for modifier in modifiers:
        modifier.apply(row)
    return row
