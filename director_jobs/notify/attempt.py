"""How one delivery attempt went, as every sender reports it."""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class Attempt:
    """Delivered, or not with a reason; `retry` says whether trying again may help."""

    delivered: bool
    response_code: int | None = None  # HTTP status or SMTP reply code
    error: str | None = None
    retry: bool = False

    @classmethod
    def ok(cls, code: int | None) -> Attempt:
        """The receiver took it."""
        return cls(True, code)

    @classmethod
    def again(cls, error: str, code: int | None = None) -> Attempt:
        """Not delivered; a later attempt may work (unreachable, busy, 5xx)."""
        return cls(False, code, error, retry=True)

    @classmethod
    def refused(cls, error: str, code: int | None = None) -> Attempt:
        """Not delivered, and trying again will not help (4xx, bad certificate)."""
        return cls(False, code, error, retry=False)


@functools.lru_cache(maxsize=16)
def verified_tls(ca_file: str | None) -> ssl.SSLContext:
    """A context that verifies against `ca_file` or the system's CAs, made once per file.

    Loading the system's CA store takes ~30 ms: once per delivery, it was most of the cost.
    """
    return ssl.create_default_context(cafile=ca_file)
