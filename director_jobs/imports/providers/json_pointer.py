"""JSON Pointer (RFC 6901): `/data/hosts` selects `document["data"]["hosts"]`."""

from __future__ import annotations

import re
from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.imports.errors import ProviderError

# An array index: "0" or digits without a leading zero (RFC 6901 §4).
_INDEX = re.compile(r"0|[1-9][0-9]*")


def parse_pointer(text: str, field: str) -> list[str]:
    """Split a pointer into unescaped reference tokens ('' is the whole document)."""
    if text == "":
        return []
    if not text.startswith("/"):
        raise InvalidInput(field, text, "expected a JSON pointer: '' or '/key/0/…'")
    tokens = text[1:].split("/")
    for token in tokens:
        if re.search(r"~(?![01])", token):
            raise InvalidInput(field, text, "'~' must be written ~0 and '/' inside a key ~1")
    return [t.replace("~1", "/").replace("~0", "~") for t in tokens]


def resolve_pointer(document: Any, tokens: list[str], text: str) -> Any:
    """The value at the pointer; ProviderError names the part that does not exist."""
    value = document
    for depth, token in enumerate(tokens):
        here = "/" + "/".join(text[1:].split("/")[: depth + 1])
        if isinstance(value, dict):
            if token not in value:
                raise ProviderError(f"JSON pointer {text!r}: no key {token!r} at {here!r}")
            value = value[token]
        elif isinstance(value, list):
            if not _INDEX.fullmatch(token) or int(token) >= len(value):
                raise ProviderError(
                    f"JSON pointer {text!r}: no element {token!r} in the list at {here!r}"
                )
            value = value[int(token)]
        else:
            raise ProviderError(
                f"JSON pointer {text!r}: {here!r} goes into a {type(value).__name__}"
            )
    return value
