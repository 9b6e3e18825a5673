"""Sessions of the web page: log in with a token, resume by cookie, expire, log out.

The cookie's secret is `djs_` and 43 URL-safe characters (256 bits); only its SHA-256 is
stored, as for tokens. A session from a login lasts while its token does: revoking the
token, or its expiry, ends the session at the next request.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.db.sessions_repo import SessionRecord
from director_jobs.services.tokens import Caller, TokenService, digest

SESSION_PREFIX = "djs_"
_SECRET_BYTES = 32
_COOKIE_SHAPE = re.compile(r"djs_[A-Za-z0-9_-]{43}")
# Without a request for this long a session ends; an open page polls, so it stays alive.
IDLE_EXPIRY = timedelta(hours=1)
# However active, a session ends this long after the login: log in again each working day.
LIFETIME = timedelta(hours=12)
# seen_at is written at most this often per session, not on every request.
_TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class WebSession:
    """A live session: who it is, and the CSRF token its forms must send back."""

    caller: Caller
    csrf: str


class SessionService:
    """Sessions over the database's web_sessions table."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        idle_expiry: timedelta = IDLE_EXPIRY,
        lifetime: timedelta = LIFETIME,
    ) -> None:
        self.database = database
        self.clock = clock
        self.idle_expiry = idle_expiry
        self.lifetime = lifetime

    def login(self, token_secret: str | None) -> tuple[str, WebSession]:
        """A new session for the token's holder: (cookie secret, session); Unauthorized
        (saying why) for a token that is unknown, revoked or expired."""
        record = TokenService(self.database, self.clock).live_record(token_secret)
        return self._start(Caller(record.name, record.role), record.id)

    def for_proxy_user(self, caller: Caller) -> tuple[str, WebSession]:
        """A new session for a user a trusted proxy vouched for (no token behind it)."""
        return self._start(caller, None)

    def resume(self, cookie: str | None) -> WebSession | None:
        """The live session of this cookie, or None (none, ended, idle too long, its token
        revoked or expired)."""
        if not cookie or not _COOKIE_SHAPE.fullmatch(cookie):
            return None
        record = self.database.sessions.by_digest(digest(cookie))
        now = self.clock.now()
        if record is None or not self._alive(record, now):
            return None
        if now - record.seen_at >= _TOUCH_INTERVAL:
            self.database.sessions.touch(record.id, now)
        return WebSession(Caller(record.user_name, record.role), record.csrf)

    def logout(self, cookie: str | None) -> None:
        """End the cookie's session (nothing happens for an unknown one)."""
        if cookie and _COOKIE_SHAPE.fullmatch(cookie):
            self.database.sessions.end(digest(cookie))

    def _alive(self, record: SessionRecord, now: datetime) -> bool:
        """Within both expiries, and its token (if any) still live."""
        if now - record.seen_at >= self.idle_expiry or record.expires_at <= now:
            return False
        if record.token_id is None:
            return True
        if record.token_revoked_at is not None:
            return False
        return record.token_expires_at is None or record.token_expires_at > now

    def _start(self, caller: Caller, token_id: int | None) -> tuple[str, WebSession]:
        """Store a new session (dropping stale ones); its cookie secret and itself."""
        now = self.clock.now()
        self.database.sessions.end_stale(now - self.idle_expiry, now)
        cookie = SESSION_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
        csrf = secrets.token_urlsafe(_SECRET_BYTES)
        self.database.sessions.add(
            secret_sha256=digest(cookie),
            token_id=token_id,
            user_name=caller.name,
            role=caller.role,
            csrf=csrf,
            at=now,
            expires_at=now + self.lifetime,
        )
        return cookie, WebSession(caller, csrf)


def same_csrf(expected: str, presented: str | None) -> bool:
    """Whether a form's or header's CSRF token is the session's (in constant time)."""
    return presented is not None and hmac.compare_digest(expected, presented)
