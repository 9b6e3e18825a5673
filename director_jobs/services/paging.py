"""Newest-first pages of ids (runs, activity): the limit, and the cursor a page hands on."""

from __future__ import annotations

from director_jobs.errors import InvalidInput


def check_limit(limit: int, most: int) -> int:
    """`limit` when it is a page size from 1 to `most`."""
    if not 1 <= limit <= most:
        raise InvalidInput("limit", limit, f"expected a whole number 1-{most}")
    return limit


def cursor_id(cursor: str | None) -> int | None:
    """The id a cursor stands for (the next page lists ids below it); None: first page."""
    if cursor is None:
        return None
    # At most 18 digits: every such number fits the 64-bit id columns.
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise InvalidInput("cursor", cursor, "expected the next_cursor of a previous page")
    return int(cursor)
