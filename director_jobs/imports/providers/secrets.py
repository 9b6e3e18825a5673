"""Secrets for providers (passwords, tokens): read from a file or an environment variable,
never from the settings themselves."""

from __future__ import annotations

import os
from pathlib import Path

from director_jobs.imports.errors import ProviderError


def read_password(password_file: Path | None, password_env: str | None) -> str | None:
    """The password from `password_file` (trailing newline dropped) or `password_env`."""
    return read_secret(password_file, password_env, "password")


def read_secret(secret_file: Path | None, secret_env: str | None, kind: str) -> str | None:
    """The secret from `<kind>_file` (trailing newline dropped) or `<kind>_env`, or None."""
    if secret_file is not None:
        try:
            return secret_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ProviderError(
                f"cannot read {kind}_file {str(secret_file)!r}: {exc.strerror or exc}"
            ) from None
        except UnicodeDecodeError:
            raise ProviderError(f"{kind}_file {str(secret_file)!r} is not UTF-8 text") from None
    if secret_env is not None:
        value = os.environ.get(secret_env)
        if value is None:
            raise ProviderError(f"{kind}_env: environment variable {secret_env!r} is not set")
        return value
    return None


def scrub(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` replaced by ***."""
    if not secret:
        return text
    return text.replace(secret, "***")
