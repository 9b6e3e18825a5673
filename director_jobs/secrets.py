"""Secrets in job data: which keys hold them, and scrubbing their values out of text that is
stored or logged (a command that echoes $PGPASSWORD, a server that echoes a token)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Keys whose values are secrets: `password`, `PGPASSWORD`, `api_token`, `client_secret`.
# `…_file` and `…_env` keys only say where a secret is, and are not secrets themselves.
_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "api_key", "api-key")
# Shorter values are not scrubbed: replacing every "ab" in a log would destroy it, and a
# secret that short protects nothing anyway.
MIN_SCRUBBED_LENGTH = 4
MASK = "***"


def is_secret_key(key: str) -> bool:
    """`password`, `PGPASSWORD`, `api_token`: yes; `password_file`, `token_env`: no."""
    lowered = key.lower()
    if lowered.endswith(("_file", "_env")):
        return False
    return any(word in lowered for word in _SECRET_WORDS)


def masked(value: Any) -> Any:
    """JSON-like `value` with every secret-looking key's value (at any depth) shown as ***."""
    if isinstance(value, dict):
        return {
            key: MASK if is_secret_key(str(key)) else masked(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def secret_fields(value: Any, path: str) -> list[str]:
    """Where JSON-like `value` holds secrets: `PATH.env.PGPASSWORD`, … (for warnings)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}"
            found += [here] if is_secret_key(str(key)) else secret_fields(item, here)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found += secret_fields(item, f"{path}[{position}]")
    return found


def secret_values(value: Any) -> set[str]:
    """The text values under secret-looking keys of JSON-like `value`, at any depth."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(str(key)) and isinstance(item, str):
                found.add(item)
            else:
                found |= secret_values(item)
    elif isinstance(value, list):
        for item in value:
            found |= secret_values(item)
    return found


class Scrubber:
    """Replaces known secret values in text with ***, longest first (one may hold another)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SCRUBBED_LENGTH}, key=len, reverse=True
        )

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        """`text` without any of the secrets."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text
