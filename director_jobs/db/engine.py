"""Engine creation for SQLite and PostgreSQL, with URL validation that never shows a password.

SQLAlchemy is imported where it is used: `plain_connection` opens a database without it
for `director health check`, whose whole run costs less than importing it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from director_jobs.errors import ConfigError, DatabaseUnavailable
from director_jobs.validation import has_unstorable, storable, storable_data

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

# How long a SQLite writer waits for another runner's transaction before giving up.
# Claims and run records are short transactions; 30 s covers a slow disk under load.
SQLITE_BUSY_TIMEOUT_MS = 30_000

SUPPORTED_BACKENDS = ("sqlite", "postgresql", "mysql", "mariadb")


# Query parameters that drivers accept as credentials; masked like the password.
SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "sslpassword", "secret", "token"})

# Fail fast instead of hanging when the PostgreSQL server is down or the network stalls, so
# that the daemon's loop (and its watchdog) keeps going: 10 s to connect, then 30 s (in
# milliseconds) for unacknowledged data before the connection counts as dead.
PG_CONNECT_ARGS = {"connect_timeout": 10, "tcp_user_timeout": 30_000}


def safe_url(url: str | URL) -> str:
    """Render a database URL with every secret masked, for logs and errors."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

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
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

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


def _read_only_query(path: Path) -> dict[str, str]:
    """The URI parameters that open `path` read-only. Without a -wal file no writer is
    active, and a reader that may not create the -shm file has to open it `immutable`
    (SQLite cannot open a WAL database read-only otherwise); with one, WAL's shared memory
    is used as usual."""
    query = {"mode": "ro"}
    if not path.with_name(path.name + "-wal").exists():
        query["immutable"] = "1"
    return query


def _read_only_url(parsed: URL, path: Path) -> URL:
    """A read-only URI for `path` (see _read_only_query)."""
    return parsed.set(database=f"file:{path}", query={**_read_only_query(path), "uri": "true"})


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
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

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
            kwargs["connect_args"] = dict(PG_CONNECT_ARGS)
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


# -- plain driver connections (the health check's) --------------------------------------------

# The URLs `plain_connection` opens itself, a part of what SQLAlchemy's make_url reads the
# same way: sqlite:////absolute/path, and postgresql[+psycopg]://user:password@host:port/name
# with key=value parameters. Anything else (a relative path, several hosts, a socket folder,
# an IPv6 address, other drivers) is SQLAlchemy's to parse.
_PLAIN_SQLITE_URL = re.compile(r"sqlite:///(?P<path>/[^?#%]*)")
_PLAIN_POSTGRESQL_URL = re.compile(
    r"postgresql(?:\+psycopg)?://"
    r"(?:(?P<user>[^:/@?#\[\]]*)(?::(?P<password>[^@/?#]*))?@)?"
    r"(?P<host>[A-Za-z0-9._-]+)(?::(?P<port>[0-9]{1,5}))?"
    r"/(?P<database>[^/?#]+)(?:\?(?P<query>[^#]*))?"
)


@dataclass
class PlainConnection:
    """A connection of the driver alone (sqlite3 or psycopg), for reading.

    Rows hold the driver's values: `json` and `instant` make of them what SQLAlchemy's
    column types return. The caller writes SQL that SQLite and PostgreSQL read alike.
    """

    driver: Any  # the DB-API module: its Error is what any failure of a statement raises
    connection: Any
    dialect: str  # "sqlite" or "postgresql"

    @property
    def mark(self) -> str:
        """The driver's placeholder for a statement parameter."""
        return "?" if self.dialect == "sqlite" else "%s"

    def rows(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of `statement`, fetched at once."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(statement, parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def json(self, value: Any) -> Any:
        """A JSON column's value: psycopg decodes it already (storable_json_value, as the
        engine's), sqlite3 hands over the text."""
        if self.dialect == "sqlite" and value is not None:
            return storable_json_value(value)
        return value

    @staticmethod
    def instant(value: Any) -> datetime:
        """A UTCDateTime column's value, as db/types.py's UTCDateTime reads it: an aware
        UTC datetime (SQLite stores ISO text; a value without an offset is UTC)."""
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def optional_instant(self, value: Any) -> datetime | None:
        """A nullable UTCDateTime column's value (see `instant`)."""
        return None if value is None else self.instant(value)

    def close(self) -> None:
        """Close the connection (a reader's transaction has nothing to keep)."""
        self.connection.close()


def plain_connection(url: str) -> PlainConnection | None:
    """The database at `url` opened with its driver alone, when SQLAlchemy would open the
    same file or server the same way and find the schema current; else None, and the
    caller uses Database.open: a URL outside the forms above, a database file still to
    be created, a schema to migrate, anything to explain (a ConfigError, SQLite errors).

    PostgreSQL that cannot be reached raises DatabaseUnavailable as Database.open says it,
    rather than None: trying again through SQLAlchemy could wait connect_timeout twice.
    (Its message imports SQLAlchemy, for safe_url: only then.)
    """
    sqlite = _PLAIN_SQLITE_URL.fullmatch(url)
    if sqlite is not None:
        plain = _plain_sqlite(sqlite["path"])
    elif (postgresql := _PLAIN_POSTGRESQL_URL.fullmatch(url)) is not None:
        plain = _plain_postgresql(url, postgresql)
    else:
        return None
    if plain is None:
        return None
    try:
        revision = plain.rows("SELECT version_num FROM alembic_version")
    except plain.driver.Error:  # no such table: an empty database, to migrate
        revision = []
    if [(_newest_migration(),)] != revision:
        plain.close()
        return None
    return plain


def _newest_migration() -> str | None:
    """The newest schema revision, read from the migration scripts' names (each starts
    with its revision, 0001_jobs_and_runs.py): HEAD_REVISION without db/migrate.py's
    import of SQLAlchemy. Should a script break that naming, nothing matches: Database.open."""
    try:
        names = [p.name for p in (Path(__file__).with_name("migrations") / "versions").iterdir()]
    except OSError:
        return None
    revisions = [n[:4] for n in names if re.fullmatch(r"[0-9]{4}_\w+\.py", n)]
    return max(revisions, default=None)


def _plain_sqlite(database: str) -> PlainConnection | None:
    """An existing SQLite file opened as build_engine opens it (read-only for a user who
    cannot write it); None for a file SQLite would create, or any error."""
    import sqlite3

    path = Path(database).resolve()
    if not path.is_file():
        return None
    try:
        if _sqlite_read_only(path):
            query = "&".join(f"{k}={v}" for k, v in sorted(_read_only_query(path).items()))
            connection = sqlite3.connect(
                f"file:{path}?{query}", timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, uri=True
            )
        else:
            connection = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error:
        return None
    try:
        _configure_read_only(connection, None)
    except sqlite3.Error:
        connection.close()
        return None
    return PlainConnection(sqlite3, connection, "sqlite")


def _plain_postgresql(url: str, parts: re.Match[str]) -> PlainConnection | None:
    """A connection made with the arguments SQLAlchemy's psycopg dialect would pass; None
    for what parse_database_url refuses or several values of one parameter."""
    query = parse_qsl(parts["query"] or "")
    names = [key for key, _ in query]
    if len(set(names)) != len(names) or {"host", "port", "plugin"} & set(names):
        return None  # a list, SQLAlchemy's several-hosts form, or its plug-ins
    port = int(parts["port"]) if parts["port"] else None
    if port is not None and not 0 < port < 65536:
        return None
    given = {
        "host": parts["host"],
        "port": port,
        "user": unquote(parts["user"] or ""),
        "password": unquote(parts["password"] or ""),
        "dbname": unquote(parts["database"]),
    }
    arguments: dict[str, Any] = {k: v for k, v in given.items() if v}
    arguments |= dict(query) | PG_CONNECT_ARGS
    import psycopg
    from psycopg.types.json import set_json_loads

    try:
        connection = psycopg.connect(**arguments)
    except psycopg.Error as exc:
        lines = str(exc).strip().splitlines()  # as failures.first_line reads a driver's error
        raise cannot_connect(url, lines[0] if lines else type(exc).__name__) from None
    set_json_loads(storable_json_value, connection)
    return PlainConnection(psycopg, connection, "postgresql")


def cannot_connect(url: str, detail: str) -> DatabaseUnavailable:
    """The error for a database that cannot be reached, naming it without its password."""
    return DatabaseUnavailable(f"database_url: cannot connect to {safe_url(url)!r}: {detail}")
