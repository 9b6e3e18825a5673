"""Telling a database outage from a statement the database refused, and saying it in one line."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError


def is_outage(exc: DBAPIError) -> bool:
    """True when the database could not be reached or went away; worth waiting for.

    Drivers raise OperationalError for lost connections, a server shutting down, a
    locked SQLite file and other conditions of the database rather than of the data.
    Everything else (DataError, IntegrityError, ProgrammingError, InterfaceError for a
    value it cannot bind, …) is the database refusing one statement: waiting does not
    change its mind, so the caller fails that one operation and goes on.
    """
    if isinstance(exc, OperationalError) and any(
        refusal in str(exc.orig) for refusal in _SQLITE_REFUSALS
    ):
        return False
    return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)


# sqlite3 raises OperationalError for these too, but they do not pass with time.
_SQLITE_REFUSALS = ("no such table", "no such column", "readonly database", "syntax error")


def first_line(exc: DBAPIError) -> str:
    """The driver's message, first line only: never the SQL, its parameters or the URL."""
    message = str(exc.orig) if exc.orig is not None else ""
    lines = message.strip().splitlines()
    return lines[0] if lines else type(exc.orig or exc).__name__
