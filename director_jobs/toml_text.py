"""TOML definitions files: reading their `[section.NAME]` tables, and writing TOML for
`director export` (keys quoted when needed, JSON-like values)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from director_jobs.errors import InvalidInput


def section_tables(data: Mapping[str, Any], section: str, example: str) -> dict[str, Any]:
    """The `[section.NAME]` tables of a file, by NAME (none: empty)."""
    tables = data.get(section, {})
    if not isinstance(tables, dict):
        raise InvalidInput(section, tables, f"expected tables like [{section}.{example}]")
    return tables


def checked_table(where: str, table: Any, keys: Sequence[str]) -> dict[str, Any]:
    """`table` itself, once it is a table holding only `keys`; InvalidInput names the key."""
    if not isinstance(table, dict):
        raise InvalidInput(where, table, "expected a table")
    for key in table:
        if key not in keys:
            raise InvalidInput(
                f"{where}.{key}", table[key], f"unknown key; expected one of {', '.join(keys)}"
            )
    return table


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(name: str) -> str:
    """A bare key when TOML allows one, else a quoted one (`"vars.os"`)."""
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def toml_value(value: Any) -> str:
    """A TOML value for JSON-like data; null (which TOML lacks) is left out of tables/lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = [f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise InvalidInput("export", value, "cannot be written as TOML")


def _string(text: str) -> str:
    """A basic string: JSON escapes are TOML escapes; DEL must be escaped in TOML too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
