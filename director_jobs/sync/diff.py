"""Which properties a change touches: leaf paths with their old and new values."""

from __future__ import annotations

from typing import Any

_ABSENT = object()


def property_diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[tuple[str, Any, Any]]:
    """(dotted path, old, new) for every leaf that differs; absent values are None."""
    found: list[tuple[str, Any, Any]] = []
    _walk(before or {}, after or {}, "", found)
    return found


def _walk(old: Any, new: Any, prefix: str, found: list[tuple[str, Any, Any]]) -> None:
    """Descend into tables present on both sides; report other differences as leaves."""
    if isinstance(old, dict) and new is _ABSENT:
        new = {}
    if isinstance(new, dict) and old is _ABSENT:
        old = {}
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            _walk(old.get(key, _ABSENT), new.get(key, _ABSENT), f"{prefix}{key}.", found)
        return
    if old != new:
        found.append(
            (prefix.rstrip("."), None if old is _ABSENT else old, None if new is _ABSENT else new)
        )
