"""Engine creation for SQLite and PostgreSQL, with URL validation that never shows a password."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from director_jobs.errors import ConfigError
from director_jobs.validation import has_unstorable, storable, storable_data

# How long a SQLite writer waits for another runner's transaction before giving up.
# Claims and run records are short transactions; 30 s covers a slow disk under load.
SQLITE_BUSY_TIMEOUT_MS = 30_000

SUPPORTED_BACKENDS = ("sqlite", "postgresql", "mysql", "mariadb")


# Query parameters that drivers accept as credentials; masked like the password.
SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "sslpassword", "secret", "token"})


def safe_url(url: str | URL) -> str:
    """Render a database URL with every secret masked, for logs and errors."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "<unparsable URL>"
    query = {k: ("***" if k.lower() in SECRET_QUERY_KEYS else v) for k, v in parsed.query.items()}
    # An unescaped '@' in a password shifts the rest of it into the host: mask that too.
    host = "***" if parsed.host and "@" in parsed.host else parsed.host
    return parsed.set(query=query, host=host).render_as_string(hide_password=True)


def parse_database_url(url: str) -> URL:
    """Parse and check a database URL; raise ConfigError naming the field."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        # The text may hold a password: show only its scheme.
        scheme = url.split(":", 1)[0] if ":" in url else url[:16]
        raise ConfigError(
            f"database_url: cannot parse {scheme!r}…: expected e.g. sqlite:////var/lib/x.db "
            "or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.host and "@" in parsed.host:
        raise ConfigError(
            "database_url: the host part contains '@' (a password with an unescaped '@'?): "
            "write '@' in passwords as %40"
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise ConfigError(
            f"database_url: port {parsed.port} in {safe_url(parsed)!r} is not a TCP port "
            "(expected 1-65535)"
        )
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"database_url: unsupported database {parsed.get_backend_name()!r} in "
            f"{safe_url(parsed)!r}: expected one of {', '.join(SUPPORTED_BACKENDS)}"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is what we ship
    return parsed


def _sqlite_read_only(path: Path) -> bool:
    """True for an existing file this user cannot write (or whose folder it cannot write:
    WAL mode creates -wal and -shm files beside it), e.g. the nagios user's health check."""
    if not path.exists():
        return False
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def _read_only_url(parsed: URL, path: Path) -> URL:
    """A read-only URI for `path`. Without a -wal file no writer is active, and a reader
    that may not create the -shm file has to open it `immutable` (SQLite cannot open a
    WAL database read-only otherwise); with one, WAL's shared memory is used as usual."""
    query = {"mode": "ro", "uri": "true"}
    if not path.with_name(path.name + "-wal").exists():
        query["immutable"] = "1"
    return parsed.set(database=f"file:{path}", query=query)


def _create_for_folder_owner(path: Path) -> None:
    """A new database in a folder of another user, made by root, belongs to that user.

    `director apply` run by root on a fresh host must not leave a root-owned jobs.db in
    the service's /var/lib/director-jobs that the service cannot write. (SQLite itself
    gives the -wal and -shm files the owner of the database file when run as root.)
    """
    if os.geteuid() != 0 or path.exists():
        return
    folder = path.parent.stat()
    if folder.st_uid == 0:
        return
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
    try:
        os.fchown(descriptor, folder.st_uid, folder.st_gid)
    finally:
        os.close(descriptor)


def _configure_read_only(dbapi_connection: Any, _record: Any) -> None:
    """A reader only waits for writers; journal mode and sync settings are theirs."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers, a busy timeout for concurrent runners, enforced FKs."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def storable_json(value: Any) -> str:
    """JSON for a JSON column, with NUL and lone surrogates replaced (PostgreSQL's jsonb
    refuses both escapes; SQLite would store text that cannot be printed later).

    json.dumps writes pure ASCII, so both can only appear as `\\u0000` and `\\udXXX`
    escapes; only then, rarely, is the value walked and cleaned.
    """
    text = json.dumps(value)
    if "\\u0000" in text or "\\ud" in text:
        text = json.dumps(storable_data(value))
    return text


def storable_json_value(text: str | bytes) -> Any:
    """A JSON column's value, read; what an earlier version stored with a NUL or a lone
    surrogate (possible on SQLite) comes back replaced, so that it can be printed.

    psycopg hands over bytes, sqlite3 text.
    """
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    value = json.loads(text)
    if "\\u0000" in text or "\\ud" in text:
        value = storable_data(value)
    return value


def _storable_parameters(parameters: Any) -> Any:
    """Statement parameters (a dict, a tuple, or a list of them) with text made storable."""
    if isinstance(parameters, dict):
        if any(isinstance(v, str) and has_unstorable(v) for v in parameters.values()):
            return {k: storable(v) if isinstance(v, str) else v for k, v in parameters.items()}
        return parameters
    if isinstance(parameters, tuple):
        if any(isinstance(v, str) and has_unstorable(v) for v in parameters):
            return tuple(storable(v) if isinstance(v, str) else v for v in parameters)
        return parameters
    if isinstance(parameters, list):
        cleaned = [_storable_parameters(p) for p in parameters]
        unchanged = all(a is b for a, b in zip(cleaned, parameters, strict=True))
        return parameters if unchanged else cleaned
    return parameters


def _clean_text_parameters(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
) -> tuple[str, Any]:
    """Last line of defence for every text column: no statement fails for its text.

    Job output, errors and imported rows may hold anything a program printed; what
    a backend cannot store is replaced here, whichever column it is bound for.
    """
    return statement, _storable_parameters(parameters)


def build_engine(url: str, pool_size: int | None = None) -> Engine:
    """Create an engine for `url` without connecting yet; `pool_size` connections kept
    open (SQLAlchemy's 5 by default; the API keeps one per request thread)."""
    parsed = parse_database_url(url)
    # Errors never show statement parameters: they may hold job output or secrets.
    kwargs: dict[str, Any] = {
        "hide_parameters": True,
        "json_serializer": storable_json,
        "json_deserializer": storable_json_value,
    }
    if pool_size is not None:
        kwargs["pool_size"] = pool_size
    read_only = False
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser().resolve()
            if not path.parent.is_dir():
                raise ConfigError(
                    f"database_url: folder {str(path.parent)!r} of {safe_url(parsed)!r} "
                    "does not exist"
                )
            read_only = _sqlite_read_only(path)
            if read_only:
                parsed = _read_only_url(parsed, path)
            else:
                _create_for_folder_owner(path)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_backend_name() == "postgresql":
            # Fail fast instead of hanging when the server is down or the network stalls,
            # so that the daemon's loop (and its watchdog) keeps going.
            kwargs["connect_args"] = {"connect_timeout": 10, "tcp_user_timeout": 30_000}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError, ArgumentError) as exc:
        raise ConfigError(f"database_url: cannot use {safe_url(parsed)!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _configure_read_only if read_only else _configure_sqlite)
    event.listen(engine, "before_cursor_execute", _clean_text_parameters, retval=True)
    return engine


@contextlib.contextmanager
def connected(engine: Engine, connection: Connection | None) -> Iterator[Connection]:
    """The caller's connection (inside its transaction), else a short one of our own."""
    if connection is not None:
        yield connection
    else:
        with engine.connect() as own:
            yield own
