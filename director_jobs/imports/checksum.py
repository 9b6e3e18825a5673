"""Checksums: sha256 of a row's canonical JSON; a run's over the sorted (key, row) pairs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# One encoder for every row: json.dumps() with options builds a new one per call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace, so that equal data gives equal text."""
    return _CANONICAL.encode(value)


def text_checksum(text: str) -> str:
    """sha256 (hex) of a canonical JSON text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_checksum(row: Mapping[str, Any]) -> str:
    """sha256 (hex) of the row's canonical JSON."""
    return text_checksum(canonical_json(row))


def run_checksum(checksums: Mapping[str, str]) -> str:
    """sha256 (hex) over `LENGTH:key:checksum` lines sorted by key (unambiguous for any key)."""
    digest = hashlib.sha256()
    for key in sorted(checksums):
        digest.update(f"{len(key)}:{key}:{checksums[key]}\n".encode())
    return digest.hexdigest()
