"""The row filter's tokenizer: names, strings, numbers, operators, brackets, keywords."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from director_jobs.errors import InvalidInput


class Kind(enum.Enum):
    """Token kinds."""

    NAME = "a column name"
    STRING = "a string"
    NUMBER = "a number"
    OPERATOR = "an operator"
    KEYWORD = "a keyword"
    PUNCT = "a bracket or comma"
    END = "the end of the filter"


@dataclass(frozen=True)
class Token:
    """One token: its kind, value, 1-based position and source text."""

    kind: Kind
    value: Any
    position: int
    text: str

    def describe(self) -> str:
        """How an error message shows this token."""
        return "the end of the filter" if self.kind is Kind.END else repr(self.text)


class FilterSyntaxError(InvalidInput):
    """A filter that does not parse; the message names the field, position and text."""

    def __init__(self, field: str, text: str, position: int, problem: str) -> None:
        self.position = position
        super().__init__(field, text, f"at position {position}: {problem}")


KEYWORDS = ("and", "or", "not", "in", "true", "false", "null")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_OPERATORS = ("!=", "!~", "==", "=", "~")  # longest first
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}


def tokenize(text: str, field: str) -> Iterator[Token]:
    """Yield the tokens of `text`, then one END token."""
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
            continue
        start = position + 1  # 1-based for people
        if char in "()[],":
            yield Token(Kind.PUNCT, char, start, char)
            position += 1
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, position)), None)
        if operator is not None:
            yield Token(Kind.OPERATOR, "=" if operator == "==" else operator, start, operator)
            position += len(operator)
            continue
        if char in "\"'":
            value, end = _string(text, position, field)
            yield Token(Kind.STRING, value, start, text[position:end])
            position = end
            continue
        match = _NUMBER.match(text, position) or _NAME.match(text, position)
        if match is None:
            raise FilterSyntaxError(field, text, start, f"unexpected character {char!r}")
        word = match.group()
        if match.re is _NUMBER:
            number = float(word) if any(c in word for c in ".eE") else int(word)
            yield Token(Kind.NUMBER, number, start, word)
        elif word.lower() in KEYWORDS:
            yield Token(Kind.KEYWORD, word.lower(), start, word)
        else:
            yield Token(Kind.NAME, word, start, word)
        position = match.end()
    yield Token(Kind.END, None, len(text) + 1, "")


def _string(text: str, position: int, field: str) -> tuple[str, int]:
    """Read a quoted string starting at `position`; return its value and the end index."""
    quote = text[position]
    chars: list[str] = []
    index = position + 1
    while index < len(text):
        char = text[index]
        if char == quote:
            return "".join(chars), index + 1
        if char == "\\":
            escaped = text[index + 1 : index + 2]
            if escaped not in _ESCAPES:
                raise FilterSyntaxError(
                    field, text, index + 1, f"unknown escape '\\{escaped}' (use \\\\, \\\", \\n)"
                )
            chars.append(_ESCAPES[escaped])
            index += 2
            continue
        chars.append(char)
        index += 1
    raise FilterSyntaxError(field, text, position + 1, f"string starting with {quote} never ends")
