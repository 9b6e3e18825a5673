"""All SQL about web sessions; like tokens, only digests of their secrets reach this module."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import Engine

from director_jobs.db.schema import api_tokens, web_sessions


@dataclass(frozen=True)
class SessionRecord:
    """One stored session, with its token's state when it came from a login."""

    id: int
    user_name: str
    role: str  # the token's current role for a login, the stored one for a proxy user
    csrf: str
    seen_at: datetime
    expires_at: datetime
    token_id: int | None
    token_revoked_at: datetime | None
    token_expires_at: datetime | None


class SessionRepository:
    """Store, find, touch and end sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        *,
        secret_sha256: str,
        token_id: int | None,
        user_name: str,
        role: str,
        csrf: str,
        at: datetime,
        expires_at: datetime,
    ) -> None:
        """Store a new session."""
        values = {
            "secret_sha256": secret_sha256,
            "token_id": token_id,
            "user_name": user_name,
            "role": role,
            "csrf": csrf,
            "created_at": at,
            "seen_at": at,
            "expires_at": expires_at,
        }
        with self.engine.begin() as connection:
            connection.execute(insert(web_sessions).values(**values))

    def by_digest(self, secret_sha256: str) -> SessionRecord | None:
        """The session whose cookie has this digest (every page request asks)."""
        with self.engine.connect() as connection:
            row = connection.execute(_by_digest(), {"digest": secret_sha256}).first()
        if row is None:
            return None
        values = dict(row._mapping)
        token_role = values.pop("token_role")
        if values["token_id"] is not None:
            values["role"] = token_role  # a token's role change applies at once
        return SessionRecord(**values)

    def touch(self, session_id: int, at: datetime) -> None:
        """Note activity, which moves the idle expiry on."""
        with self.engine.begin() as connection:
            connection.execute(
                update(web_sessions).where(web_sessions.c.id == session_id).values(seen_at=at)
            )

    def end(self, secret_sha256: str) -> None:
        """Forget the session (logout)."""
        with self.engine.begin() as connection:
            connection.execute(
                delete(web_sessions).where(web_sessions.c.secret_sha256 == secret_sha256)
            )

    def end_stale(self, idle_since: datetime, now: datetime) -> int:
        """Forget sessions idle since before `idle_since` or past their end; how many."""
        query = delete(web_sessions).where(
            or_(web_sessions.c.seen_at < idle_since, web_sessions.c.expires_at <= now)
        )
        with self.engine.begin() as connection:
            return connection.execute(query).rowcount


@functools.cache
def _by_digest() -> Select[Any]:
    """The session lookup with its token's state, built once (as the token lookup is)."""
    s, t = web_sessions, api_tokens
    return (
        select(
            s.c.id,
            s.c.user_name,
            s.c.role,
            s.c.csrf,
            s.c.seen_at,
            s.c.expires_at,
            s.c.token_id,
            t.c.role.label("token_role"),
            t.c.revoked_at.label("token_revoked_at"),
            t.c.expires_at.label("token_expires_at"),
        )
        .select_from(s.outerjoin(t, s.c.token_id == t.c.id))
        .where(s.c.secret_sha256 == bindparam("digest"))
    )
