"""API tokens: create one (its secret shown once), list, revoke, and tell who a secret is.

A token is `djt_` and 43 URL-safe characters (32 random bytes, 256 bits); only its
SHA-256 is stored. A fast hash is enough here: the secret is random, not a password,
so there is nothing to guess from the digest.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.db.tokens_repo import TokenRecord
from director_jobs.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from director_jobs.services.activity import ActivityLog
from director_jobs.settings import ROLES
from director_jobs.validation import parse_duration, validate_name

TOKEN_PREFIX = "djt_"
_SECRET_BYTES = 32
# What a presented token may look like at all (longer or odd text is refused unread).
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,200}")
# last_used_at is written at most this often per token, not on every request.
_USE_NOTE_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: a token's name and role."""

    name: str
    role: str

    def require(self, role: str) -> None:
        """Raise Forbidden unless this caller's role is `role` or above."""
        if ROLES.index(self.role) < ROLES.index(role):
            raise Forbidden(f"token {self.name!r} has role {self.role}; this needs {role}")


def digest(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_shape(secret: str | None) -> str:
    """`secret` when it could be a token at all; Unauthorized without reading the database."""
    if not secret:
        raise Unauthorized("a token is needed: send 'Authorization: Bearer TOKEN'")
    if not _TOKEN_SHAPE.fullmatch(secret):
        raise Unauthorized("the token is malformed")
    return secret


def parse_role(value: str) -> str:
    """Return `value` when it names a role."""
    if value not in ROLES:
        raise InvalidInput("role", value, "expected one of " + ", ".join(ROLES))
    return value


class TokenService:
    """The token use cases, for the CLI and for the API's authentication."""

    def __init__(self, database: Database, clock: Clock, *, actor: str = "system") -> None:
        self.database = database
        self.clock = clock
        self.activity = ActivityLog(database, clock, actor)

    def add(self, name: str, role: str, expires: str | None, created_by: str) -> str:
        """Store a new token and return its secret (the only time it is known)."""
        validate_name(name, "name")
        parse_role(role)
        now = self.clock.now()
        expires_at = None
        if expires is not None:
            expires_at = now + timedelta(seconds=parse_duration(expires, "expires"))
        secret = TOKEN_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
        self.database.tokens.add(
            name=name,
            role=role,
            secret_sha256=digest(secret),
            created_at=now,
            created_by=created_by,
            expires_at=expires_at,
        )
        after = {"role": role, "expires_at": expires_at.isoformat() if expires_at else None}
        self.activity.note("created", "token", name, after=after)
        return secret

    def all(self) -> list[TokenRecord]:
        """Every token (revoked and expired ones included), without secrets."""
        return self.database.tokens.all()

    def revoke(self, name: str) -> None:
        """Revoke the token at once; NotFound when there is no live token of that name."""
        validate_name(name, "name")
        if not self.database.tokens.revoke(name, self.clock.now()):
            if self.database.tokens.exists(name):
                raise NotFound(f"token: {name!r} is revoked already")
            raise NotFound(f"token: no token named {name!r}")
        self.activity.note("revoked", "token", name)

    def authenticate(self, secret: str | None) -> Caller:
        """The caller that `secret` belongs to; Unauthorized (saying why) when none."""
        record = self.live_record(secret)
        return Caller(record.name, record.role)

    def live_record(self, secret: str | None) -> TokenRecord:
        """The live token that `secret` belongs to; Unauthorized (saying why) when none."""
        presented = digest(check_shape(secret))
        record = self.database.tokens.by_digest(presented)
        # The lookup found it by digest; compare once more in constant time all the same.
        if record is None or not hmac.compare_digest(record.secret_sha256, presented):
            raise Unauthorized("unknown token")
        now = self.clock.now()
        if record.revoked_at is not None:
            raise Unauthorized(f"token {record.name!r} was revoked")
        if record.expires_at is not None and record.expires_at <= now:
            raise Unauthorized(f"token {record.name!r} has expired")
        if record.last_used_at is None or now - record.last_used_at >= _USE_NOTE_INTERVAL:
            self.database.tokens.note_use(record.id, now)
        return record
