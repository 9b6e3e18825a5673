"""Split a ranges key into tokens that remember where they start in the key."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from director_jobs.periods.errors import InvalidTimeRange

__all__ = ["Kind", "Token", "tokenize"]


class Kind(enum.Enum):
    """What a token is; the parser decides what it means."""

    WORD = "word"  # letters: weekday, month or "day"
    NUMBER = "number"  # an integer, negative with a leading "-": "15", "-1"
    DATE = "date"  # YYYY-MM-DD
    DASH = "dash"  # the range separator: a "-" followed by whitespace, as Icinga 2 requires
    SLASH = "slash"  # the stride separator "/"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text and its 0-based position in the key."""

    kind: Kind
    text: str
    position: int


# Tried in this order at each token start; the first alternative that matches wins. Digits
# are ASCII only ("\d" would also accept other scripts' digits, which Icinga 2 does not).
_TOKEN = re.compile(
    r"""
    (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?![0-9-])
    | (?P<baddate>[0-9]+-[0-9-]*)       # digits glued to a dash: "2026-1-1", "1-15"
    | (?P<number>-?[0-9]+)(?![0-9])
    | (?P<word>[^\W\d_]+)
    | (?P<dash>-)(?=\s|$)
    | (?P<slash>/)
    """,
    re.VERBOSE,
)
_SPACE = re.compile(r"\s+")
_KINDS = {
    "date": Kind.DATE,
    "number": Kind.NUMBER,
    "word": Kind.WORD,
    "dash": Kind.DASH,
    "slash": Kind.SLASH,
}


_SOLID = frozenset({Kind.WORD, Kind.NUMBER, Kind.DATE})


def _glued(previous: Token, token: Token) -> bool:
    """Whether two words, numbers or dates touch without a space between them."""
    touching = previous.position + len(previous.text) == token.position
    return touching and previous.kind in _SOLID and token.kind in _SOLID


def tokenize(key: str) -> list[Token]:
    """Tokens of ``key``; whitespace only separates them.

    Raises InvalidTimeRange at the first character that starts no token.
    """
    tokens: list[Token] = []
    position = 0
    while position < len(key):
        space = _SPACE.match(key, position)
        if space:
            position = space.end()
            continue
        match = _TOKEN.match(key, position)
        if match is None:
            bad = key[position:].split()[0]
            if bad.startswith("-"):
                expected = "expected ' - ' with a space after it, or a negative number"
            else:
                expected = "expected a word, a number, a date YYYY-MM-DD, ' - ' or '/'"
            raise InvalidTimeRange.in_key(key, bad, position, expected)
        name = match.lastgroup
        assert name is not None  # every alternative is a named group
        if name == "baddate":
            raise InvalidTimeRange.in_key(
                key,
                match.group(),
                position,
                "expected a date YYYY-MM-DD, or ' - ' with a space after it between range ends",
            )
        token = Token(_KINDS[name], match.group(), position)
        if tokens and _glued(tokens[-1], token):
            # "monday1" or "day-1": Icinga 2 splits only at spaces, so these are one bad word.
            raise InvalidTimeRange.in_key(key, token.text, position, "expected a space before it")
        tokens.append(token)
        position = match.end()
    return tokens
