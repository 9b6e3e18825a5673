"""Icinga 2 DSL literals: every value becomes inert text that the config parser reads back as is.

Facts this relies on (Icinga 2 language reference "String Literals" and its lexer,
lib/config/config_lexer.ll; checked with `icinga2 daemon -C` 2.13.6):

* Inside "…" only `\\`, `"` and the escapes \\n \\r \\t \\b \\f and octal \\ooo mean
  anything; an unescaped newline ends the file's string with an error; any other backslash
  sequence (`\\$` included) is the error "Bad escape sequence found".
* `$` and `${` have no meaning in the DSL: strings are not interpolated, and need no
  escape. `$name$` is a runtime macro, resolved when a command line, notes_url etc. is built
  (custom variables reached through a short macro are resolved again); `$$` is its escape.
  Outside custom variables values are written verbatim, as Icinga Director does.
* The lexer reads `\\[0-9]+` as one (bad) escape when that is longer than the octal one, so
  `\\036` followed by `8` fails: a digit after an octal escape is written in octal too.
* Icinga validates custom variables as macro strings: a value with an odd number of `$`
  fails the whole configuration ("Closing $ not found in macro format string"). MacroPolicy
  says what to do about `$` in custom variables.
* Numbers have no exponent form (`1e5` is a syntax error), so floats are written out.
* Identifiers are `[A-Za-z_][A-Za-z0-9_]*`; keywords cannot be used as identifiers.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from director_jobs.errors import DirectorJobsError


class RenderError(DirectorJobsError):
    """An object cannot be rendered safely; the message names the object and the attribute."""


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Keywords of the lexer (2.13 and later: namespace, using, signal): never bare identifiers.
KEYWORDS = frozenset(
    (
        *("object", "template", "include", "include_recursive", "include_zones", "library"),
        *("null", "true", "false", "const", "var", "this", "globals", "locals", "use", "using"),
        *("namespace", "__using", "apply", "default", "to", "where", "import", "assign"),
        *("ignore", "function", "return", "break", "continue", "for", "if", "else", "while"),
        *("throw", "try", "except", "ignore_on_error", "current_filename", "current_line"),
        *("debugger", "in", "signal"),
    )
)

# Backslash, quote and every C0 control character plus DEL (3-digit octal where unnamed).
_NAMED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_ESCAPES = {ord(c): _NAMED.get(c, f"\\{ord(c):03o}") for c in [*map(chr, range(32)), "\x7f"]}
_ESCAPES.update({ord(c): e for c, e in _NAMED.items()})
_OCTAL = re.compile(r"[\x00-\x07\x0b\x0e-\x1f\x7f]")


class MacroPolicy(enum.StrEnum):
    """What becomes of `$` in custom variable values (`$$` is the macro escape for `$`)."""

    UNBALANCED = "unbalanced"  # double every `$` only where Icinga would reject the value
    ALWAYS = "always"  # double every `$`: no imported value is ever expanded as a macro
    NEVER = "never"  # verbatim: an odd number of `$` fails validation

    def apply(self, text: str) -> str:
        """`text` as it is to be written into a custom variable."""
        if self is MacroPolicy.ALWAYS or (self is MacroPolicy.UNBALANCED and text.count("$") % 2):
            return text.replace("$", "$$")
        return text


def string(text: str) -> str:
    """A quoted string literal; `"a\\"b"` for `a"b`. Raises ValueError on lone surrogates."""
    if not text.isascii():
        text.encode("utf-8")  # lone surrogates (from JSON "\ud800") cannot be written
    if _OCTAL.search(text) is None:
        return '"' + text.translate(_ESCAPES) + '"'
    parts: list[str] = []
    after_octal = False
    for char in text:
        if after_octal and "0" <= char <= "9":
            parts.append(f"\\{ord(char):03o}")
            continue
        piece = char.translate(_ESCAPES)
        parts.append(piece)
        after_octal = len(piece) == 4  # `\\ooo`
    return '"' + "".join(parts) + '"'


def is_identifier(name: str) -> bool:
    """True when `name` can stand bare: an identifier that is not a keyword."""
    return IDENTIFIER.fullmatch(name) is not None and name not in KEYWORDS


def number(value: int | float) -> str:
    """A numeric literal without exponent; 3.0 → `3`, 1e-7 → `0.0000001`, -2 → `-2`."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    if value.is_integer():
        return str(int(value))
    # repr is the shortest text that reads back as the same float; Decimal expands it.
    return format(Decimal(repr(value)), "f")


def value(item: Any) -> str:
    """Any JSON value as an expression: literals, `[ … ]` lists, `{ "k" = v }` dicts."""
    if item is None:
        return "null"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return number(item)
    if isinstance(item, str):
        return string(item)
    if isinstance(item, Mapping):
        return dictionary(item)
    if isinstance(item, Sequence):
        return "[ " + ", ".join(value(v) for v in item) + " ]" if item else "[ ]"
    raise ValueError(f"cannot render a {type(item).__name__}")


def dictionary(mapping: Mapping[str, Any]) -> str:
    """A dictionary literal with quoted keys, sorted: `{ "a b" = 1, "c" = [ ] }`."""
    if not mapping:
        return "{ }"
    for key in mapping:
        if not isinstance(key, str):
            raise ValueError(f"dictionary key {key!r} is not a string")
    items = (f"{string(k)} = {value(mapping[k])}" for k in sorted(mapping))
    return "{ " + ", ".join(items) + " }"


def attribute_path(first: str, rest: Sequence[str]) -> str:
    """`vars.os`, or `vars["odd key"]` where a part is no bare identifier."""
    if not is_identifier(first):
        raise ValueError(f"{first!r} is not an attribute name")
    parts = [first]
    for part in rest:
        if not part:
            raise ValueError("empty part in a dotted attribute name")
        parts.append(f".{part}" if is_identifier(part) else f"[{string(part)}]")
    return "".join(parts)


# A duration literal as Icinga writes it: 30s, 1.5m, 500ms, 2h, 1d (or a bare number).
DURATION = re.compile(r"[0-9]+(\.[0-9]+)?(ms|s|m|h|d)?")
