"""`sql`: rows from a query on any SQLAlchemy URL; the password comes from a file or env var."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from director_jobs.db.engine import SECRET_QUERY_KEYS, safe_url
from director_jobs.errors import InvalidInput
from director_jobs.imports.errors import ProviderError
from director_jobs.imports.providers.base import Provider, json_value
from director_jobs.imports.providers.secrets import read_password, scrub

# Seconds to wait for a database server before the import fails (PostgreSQL, MySQL).
CONNECT_TIMEOUT = 10


class SqlProvider(Provider):
    """Settings: url (no password in it), query, password_file or password_env."""

    name = "sql"
    required = ("url", "query")
    optional = ("password_file", "password_env")

    def check(self) -> None:
        """Parse the URL (it must not hold the password), check the query and the secret source."""
        raw = self.text("url") or ""
        try:
            self.url = make_url(raw)
        except (ArgumentError, ValueError):
            scheme = raw.split(":", 1)[0] if ":" in raw else "?"
            raise InvalidInput(
                f"{self.where}.url",
                f"{scheme}:…",
                "expected a SQLAlchemy URL such as postgresql+psycopg://user@host/db",
            ) from None
        in_query = any(k.lower() in SECRET_QUERY_KEYS for k in self.url.query)
        # An unescaped '@' in a password leaves the rest of it in the host part.
        if self.url.password is not None or in_query or "@" in (self.url.host or ""):
            raise InvalidInput(
                f"{self.where}.url",
                self.shown_url(),
                "do not put the password in the URL: use password_file or password_env",
            )
        self.query = self.text("query") or ""
        self.password_file = self.path("password_file")
        self.password_env = self.text("password_env")
        if self.password_file is not None and self.password_env is not None:
            raise InvalidInput(
                f"{self.where}.password_env",
                self.password_env,
                "give password_file or password_env",
            )

    def shown_url(self, url: URL | None = None) -> str:
        """The URL as it may appear in logs and errors."""
        return safe_url(url or self.url)

    def masked_settings(self) -> dict[str, Any]:
        """The settings with the URL rendered password-free."""
        return {**self.settings, "url": self.shown_url()}

    def rows(self) -> Iterator[dict[str, Any]]:
        """Run the query in a transaction that is rolled back, and yield its rows."""
        password = read_password(self.password_file, self.password_env)
        url = self.url
        if password is not None and url.get_backend_name() != "sqlite":  # SQLite has none
            url = url.set(password=password)
        self._check_sqlite_file(url)
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() in ("postgresql", "mysql", "mariadb"):
            connect_args["connect_timeout"] = CONNECT_TIMEOUT
        try:
            engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        except (NoSuchModuleError, ImportError, ArgumentError) as exc:
            raise ProviderError(
                f"cannot use {self.shown_url()!r}: {scrub(_first_of(str(exc)), password)}"
            ) from None
        try:
            with engine.connect() as connection:
                # The driver's own SQL, untouched: a ':name' or '%' in the query stays literal.
                result = connection.exec_driver_sql(self.query)
                if not result.returns_rows:
                    raise ProviderError("the query returns no rows (expected a SELECT)")
                columns = list(result.keys())
                records = result.fetchall()
                connection.rollback()  # a provider only reads
        except DBAPIError as exc:
            raise ProviderError(
                f"query on {self.shown_url()!r} failed: {scrub(_first_line(exc), password)}"
            ) from None
        except SQLAlchemyError as exc:
            raise ProviderError(
                f"query on {self.shown_url()!r} failed: {scrub(_first_of(str(exc)), password)}"
            ) from None
        finally:
            engine.dispose()
        duplicates = sorted({c for c in columns if columns.count(c) > 1})
        if duplicates:
            raise ProviderError(
                f"the query returns column {duplicates[0]!r} twice: give each column its own name"
            )
        for record in records:
            yield {c: json_value(v, c) for c, v in zip(columns, record, strict=True)}

    def _check_sqlite_file(self, url: URL) -> None:
        """Refuse a missing SQLite file (SQLite would create an empty one and return nothing)."""
        database = url.database or ""
        if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
            return
        if database.startswith("file:"):
            return
        if not Path(database).is_file():
            raise ProviderError(f"SQLite database {database!r} does not exist")


def _first_line(exc: DBAPIError) -> str:
    """The driver's message, first line only (SQLAlchemy's text adds the SQL and a link)."""
    return _first_of(str(exc.orig) if exc.orig is not None else str(exc)) or type(exc).__name__


def _first_of(message: str) -> str:
    """The first line of a message."""
    lines = message.strip().splitlines()
    return lines[0] if lines else ""
