"""Passwords for providers: read from a file or an environment variable, never from settings."""

from __future__ import annotations

import os
from pathlib import Path

from director_jobs.imports.errors import ProviderError


def read_password(password_file: Path | None, password_env: str | None) -> str | None:
    """The password from `password_file` (trailing newline dropped) or `password_env`."""
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ProviderError(
                f"cannot read password_file {str(password_file)!r}: {exc.strerror or exc}"
            ) from None
        except UnicodeDecodeError:
            raise ProviderError(f"password_file {str(password_file)!r} is not UTF-8 text") from None
    if password_env is not None:
        value = os.environ.get(password_env)
        if value is None:
            raise ProviderError(f"password_env: environment variable {password_env!r} is not set")
        return value
    return None


def scrub(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` replaced by ***."""
    if not secret:
        return text
    return text.replace(secret, "***")
