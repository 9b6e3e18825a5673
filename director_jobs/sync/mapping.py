"""Property mapping: templates like `"${ip}"` turn an import row into an object's properties.

Keys are property paths: `vars.os` sets `{"vars": {"os": …}}`. Values are templates
(strings with `${column}` placeholders), constants of any JSON type, or lists of those.
A string that is exactly one placeholder keeps the column's type (a list stays a list);
in a longer string the values are written as text. A placeholder whose column is
missing or null leaves the property unset (a list drops that element; a list value
inside a list is spliced in).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from director_jobs.errors import InvalidInput

OBJECT_NAME = "object_name"
_PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")

Path = tuple[str, ...]


@dataclass(frozen=True)
class Template:
    """A string with placeholders: literal text and column names, alternating."""

    parts: tuple[str, ...]  # even indexes: literal text; odd indexes: column names
    whole_column: str | None = field(init=False)  # set when it is exactly one placeholder

    def __post_init__(self) -> None:
        whole = len(self.parts) == 3 and self.parts[0] == "" and self.parts[2] == ""
        object.__setattr__(self, "whole_column", self.parts[1] if whole else None)

    def render(self, row: Mapping[str, Any]) -> Any:
        """The value for `row`; None when a referenced column has no value."""
        column = self.whole_column
        if column is not None:
            return row.get(column)
        pieces = []
        for index, part in enumerate(self.parts):
            if index % 2 == 0:
                pieces.append(part)
                continue
            value = row.get(part)
            if value is None:
                return None
            pieces.append(_text(value))
        return "".join(pieces)


def compile_template(text: str, field: str) -> Template | str:
    """A Template, or the plain string when it has no placeholder."""
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        column = match.group(1).strip()
        if not column:
            raise InvalidInput(field, text, "empty placeholder ${}: write ${column}")
        parts.extend([text[position : match.start()], column])
        position = match.end()
    rest = text[position:]
    if "${" in rest:
        raise InvalidInput(field, text, "a '${' without its '}'")
    if not parts:
        return text
    parts.append(rest)
    return Template(tuple(parts))


class PropertyMapping:
    """The compiled mapping of one rule: its object-name template and property paths."""

    def __init__(self, properties: Mapping[str, Any], where: str) -> None:
        flat = flatten_properties(properties)
        if OBJECT_NAME not in flat:
            raise InvalidInput(
                f"{where}.{OBJECT_NAME}", None, 'every rule maps object_name, e.g. "${hostname}"'
            )
        name = flat[OBJECT_NAME]
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(
                f"{where}.{OBJECT_NAME}", name, 'expected a template such as "${hostname}"'
            )
        self.object_name = compile_template(name, f"{where}.{OBJECT_NAME}")
        self.paths: list[tuple[Path, Any]] = []
        for key, value in flat.items():
            if key == OBJECT_NAME:
                continue
            path = split_path(key, f"{where}.{key}")
            self.paths.append((path, _compile_value(value, f"{where}.{key}")))
        _check_prefixes([p for p, _ in self.paths], where)

    def name_for(self, row: Mapping[str, Any]) -> Any:
        """The object name for `row` (None when a placeholder has no value)."""
        if isinstance(self.object_name, Template):
            return self.object_name.render(row)
        return self.object_name

    def render(self, row: Mapping[str, Any]) -> list[tuple[Path, Any]]:
        """Each mapped path with its value for `row` (None: no value)."""
        return [(path, _render_value(value, row)) for path, value in self.paths]


def flatten_properties(properties: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables become dotted keys: {"vars": {"os": x}} → {"vars.os": x}."""
    flat: dict[str, Any] = {}
    for key, value in properties.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten_properties(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def split_path(key: str, field: str) -> Path:
    """`vars.os` → ("vars", "os"); empty parts are an error."""
    parts = tuple(part.strip() for part in key.split("."))
    if not all(parts):
        raise InvalidInput(field, key, "expected a property name such as address or vars.os")
    return parts


def _check_prefixes(paths: list[Path], where: str) -> None:
    """Refuse `vars` next to `vars.os`: the first would overwrite the second."""
    known = set(paths)
    for path in paths:
        for length in range(1, len(path)):
            if path[:length] in known:
                raise InvalidInput(
                    f"{where}.{'.'.join(path)}",
                    ".".join(path[:length]),
                    "conflicts with the mapping of its parent; map one or the other",
                )


def _compile_value(value: Any, field: str) -> Any:
    """Templates for strings (also inside a list); constants stay as they are."""
    if isinstance(value, str):
        return compile_template(value, field)
    if isinstance(value, list):
        return [compile_template(v, field) if isinstance(v, str) else v for v in value]
    if value is None:
        raise InvalidInput(field, value, "expected a template, a constant or a list")
    return value


def _render_value(value: Any, row: Mapping[str, Any]) -> Any:
    """A compiled value for one row."""
    if isinstance(value, Template):
        return value.render(row)
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            rendered = item.render(row) if isinstance(item, Template) else item
            if isinstance(rendered, list) and isinstance(item, Template):
                items.extend(rendered)
            elif rendered is not None:
                items.append(rendered)
        return items
    return value


def _text(value: Any) -> str:
    """A value inside a longer string: text as is, the rest as JSON (true, 4, ["a"])."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
