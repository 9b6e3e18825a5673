"""All SQL about API tokens; the secrets themselves never reach this module, only digests."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError

from director_jobs.db.schema import api_tokens
from director_jobs.errors import AlreadyExists


@dataclass(frozen=True)
class TokenRecord:
    """One stored token, without its secret."""

    id: int
    name: str
    role: str
    secret_sha256: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def _record(row: Row[tuple[object, ...]]) -> TokenRecord:
    return TokenRecord(**row._mapping)


class TokenRepository:
    """Store, list, look up and revoke tokens."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        *,
        name: str,
        role: str,
        secret_sha256: str,
        created_at: datetime,
        created_by: str,
        expires_at: datetime | None,
    ) -> None:
        """Store a new token; AlreadyExists when the name is taken (revoked ones included)."""
        values = {
            "name": name,
            "role": role,
            "secret_sha256": secret_sha256,
            "created_at": created_at,
            "created_by": created_by,
            "expires_at": expires_at,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(api_tokens).values(**values))
        except IntegrityError:
            raise AlreadyExists(f"token: a token named {name!r} exists already") from None

    def all(self) -> list[TokenRecord]:
        """Every token, by name."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(api_tokens).order_by(api_tokens.c.name))
            return [_record(row) for row in rows]

    def by_digest(self, secret_sha256: str) -> TokenRecord | None:
        """The token whose secret has this digest, if any (every API request asks)."""
        with self.engine.connect() as connection:
            row = connection.execute(_by_digest(), {"digest": secret_sha256}).first()
        return None if row is None else _record(row)

    def revoke(self, name: str, at: datetime) -> bool:
        """Mark the token revoked (kept, so its name stays in the activity log); False if none."""
        query = (
            update(api_tokens)
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        with self.engine.begin() as connection:
            return connection.execute(query).rowcount > 0

    def exists(self, name: str) -> bool:
        """Whether a token of that name is stored (revoked or not)."""
        query = select(api_tokens.c.id).where(api_tokens.c.name == name)
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def note_use(self, token_id: int, at: datetime) -> None:
        """Remember when the token was last used."""
        with self.engine.begin() as connection:
            connection.execute(
                update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at)
            )


@functools.cache
def _by_digest() -> Select[Any]:
    """The token lookup, built once: building it cost as much as running it."""
    return select(api_tokens).where(api_tokens.c.secret_sha256 == bindparam("digest"))
