"""Read the TimePeriod objects of an Icinga 2 configuration file (pure: text in, periods out).

``parse_timeperiods(text, source)`` understands the subset of the Icinga 2 DSL that TimePeriod
objects are written in: comments (``//``, ``#``, ``/* */``), strings (``"…"`` with the escapes
``\\" \\\\ \\n \\t \\r \\b \\f \\NNN`` and ``{{{…}}}``), and in a TimePeriod block
``import "legacy-timeperiod"``, ``display_name``, ``ranges`` (``=``, ``+=``, ``ranges["k"] =``,
``ranges.k =``), ``includes``/``excludes`` (``=``, ``+=``) and ``prefer_includes``.

Everything else is skipped, brackets matched, with a note naming the file and line: other
top-level statements and objects, templates, other attributes, and values that are not literals.
Only broken text raises ``ConfigSyntaxError``: an unterminated string or comment, unbalanced
brackets, a TimePeriod without a name string or a block, a TimePeriod name used twice, and ranges
keys or values that are literals but not strings. The range syntax itself is not checked here.
Every loop consumes at least one character or token and nothing recurses, so any text ends.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from director_jobs.errors import InvalidInput

__all__ = ["ConfigSyntaxError", "ImportResult", "ImportedPeriod", "parse_timeperiods"]

_SNIPPET = 60  # longest offending text or statement summary quoted in a message
_ATTRIBUTES = "display_name, ranges, includes, excludes and prefer_includes"
_NOT_LITERAL = "not a literal value"
_UNSUPPORTED = "not a supported assignment"


class ConfigSyntaxError(InvalidInput):
    """The configuration text cannot be read; ``field`` is ``"<source>:<line>"``.

    Example: ``timeperiods.conf:7: invalid value '"09:00': expected a closing '"' on the same
    line``. ``source`` and ``line`` are also attributes of their own.
    """

    def __init__(self, source: str, line: int, value: str, expected: str) -> None:
        self.source = source
        self.line = line
        super().__init__(f"{source}:{line}", value, expected)


@dataclass(frozen=True)
class ImportedPeriod:
    """One ``object TimePeriod`` as written; ``line`` is where its ``object`` keyword is."""

    name: str
    display_name: str | None = None
    ranges: dict[str, str] = field(default_factory=dict)
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    prefer_includes: bool = True
    line: int = field(kw_only=True)


@dataclass(frozen=True)
class ImportResult:
    """The periods in file order, and one note per skipped statement or value."""

    periods: list[ImportedPeriod]
    notes: list[str]


def parse_timeperiods(text: str, source: str = "<string>") -> ImportResult:
    """Every ``object TimePeriod`` in the Icinga 2 configuration ``text``.

    ``source`` names the text in notes and errors (``source:line: …``). Raises
    ConfigSyntaxError (an InvalidInput) when the text cannot be read; see the module docstring.
    """
    tokens = _Lexer(text, source).run()
    return _Parser(text, source, tokens).run()


# --- tokens ----------------------------------------------------------------------------------


class _Kind(enum.Enum):
    STRING = "string"  # text holds the decoded value
    NAME = "name"  # identifier or keyword, "@" kept
    NUMBER = "number"  # including a duration suffix: 1m, 30s, 1.5h
    OP = "op"  # punctuation and operators; any other character too
    NEWLINE = "newline"  # text "\n"; also stands for a block comment spanning lines
    END = "end"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str
    line: int
    start: int  # offsets of the token's source text
    end: int


# One token at a time, tried in this order; "special" starts are handled by _Lexer methods.
_TOKEN = re.compile(
    r"""
    (?P<newline>\n)
    | (?P<space>[ \t\r\f\v]+)
    | (?P<comment>(?://|\#)[^\n]*)
    | (?P<special>/\*|\{\{\{|")
    | (?P<name>@?[A-Za-z_][A-Za-z0-9_]*)
    | (?P<number>[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d)?)
    | (?P<op>[-+*/%^&|]=|[=!<>]=|=>|&&|\|\||<<|>>|.)
    """,
    re.VERBOSE | re.DOTALL,
)
_KINDS = {"name": "NAME", "number": "NUMBER", "op": "OP"}
_STRING_PART = re.compile(r'[^"\\\n]+')
_OCTAL = re.compile(r"[0-7]{1,3}")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_OPENERS = {"{": "}", "[": "]", "(": ")"}
_CLOSERS = frozenset(_OPENERS.values())
_LITERAL_NAMES = frozenset({"true", "false", "null"})


def _shorten(text: str) -> str:
    """``text`` on one line, cut to at most _SNIPPET characters."""
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


def _quote(name: str) -> str:
    """``name`` as an Icinga 2 string literal, for messages."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Lexer:
    """Splits the text into tokens; raises on unterminated strings and comments."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 1 if text.startswith("\ufeff") else 0  # a byte order mark is no token
        self.line = 1
        self.tokens: list[_Token] = []

    def run(self) -> list[_Token]:
        while self.pos < len(self.text):
            self._step()
        self.tokens.append(_Token(_Kind.END, "", self.line, self.pos, self.pos))
        return self.tokens

    def _add(self, kind: _Kind, text: str, end: int, line: int | None = None) -> None:
        line = self.line if line is None else line
        self.tokens.append(_Token(kind, text, line, self.pos, end))
        self.pos = end

    def _step(self) -> None:
        match = _TOKEN.match(self.text, self.pos)
        assert match is not None  # the last alternative matches any character
        group, end = match.lastgroup, match.end()
        if group == "newline":
            self._add(_Kind.NEWLINE, "\n", end)
            self.line += 1
        elif group in ("space", "comment"):
            self.pos = end
        elif group != "special":
            self._add(_Kind[_KINDS[str(group)]], match.group(), end)
        elif match.group() == "/*":
            self._block_comment()
        elif match.group() == "{{{":
            self._heredoc()
        else:
            self._string()

    def _error(self, line: int, start: int, expected: str) -> ConfigSyntaxError:
        end = self.text.find("\n", start)
        snippet = self.text[start : len(self.text) if end < 0 else end]
        return ConfigSyntaxError(self.source, line, _shorten(snippet), expected)

    def _block_comment(self) -> None:
        end = self.text.find("*/", self.pos + 2)
        if end < 0:
            raise self._error(self.line, self.pos, "expected '*/' to close the comment")
        lines = self.text.count("\n", self.pos, end)
        if lines:  # a comment over several lines separates statements like a new line
            self._add(_Kind.NEWLINE, "\n", end + 2)
            self.line += lines
        else:
            self.pos = end + 2

    def _heredoc(self) -> None:
        end = self.text.find("}}}", self.pos + 3)
        if end < 0:
            raise self._error(self.line, self.pos, "expected '}}}' to close the string")
        line = self.line
        self.line += self.text.count("\n", self.pos, end)
        self._add(_Kind.STRING, self.text[self.pos + 3 : end], end + 3, line)

    def _string(self) -> None:
        text, pos = self.text, self.pos + 1
        parts: list[str] = []
        while pos < len(text) and text[pos] not in '"\n':
            if text[pos] != "\\":
                part = _STRING_PART.match(text, pos)
                assert part is not None  # text[pos] is none of '"', "\\", "\n"
                parts.append(part.group())
                pos = part.end()
            elif (escaped := _ESCAPES.get(text[pos + 1 : pos + 2])) is not None:
                parts.append(escaped)
                pos += 2
            elif octal := _OCTAL.match(text, pos + 1):
                parts.append(chr(int(octal.group(), 8)))
                pos = octal.end()
            elif text[pos + 1 : pos + 2] in ("", "\n"):
                pos += 1  # ends the loop: unterminated
            else:
                expected = 'expected one of the escapes \\" \\\\ \\n \\t \\r \\b \\f \\NNN'
                raise ConfigSyntaxError(self.source, self.line, text[pos : pos + 2], expected)
        if pos >= len(text) or text[pos] == "\n":
            raise self._error(self.line, self.pos, "expected a closing '\"' on the same line")
        self._add(_Kind.STRING, "".join(parts), pos + 1)


# --- parser ----------------------------------------------------------------------------------


def _is(token: _Token, *texts: str) -> bool:
    """Whether ``token`` is punctuation (or a new line) with one of ``texts``."""
    return token.kind in (_Kind.OP, _Kind.NEWLINE) and token.text in texts


_TOP_STOPS = ("\n", ";")
_BODY_STOPS = ("\n", ";", ",")


@dataclass
class _PeriodState:
    """A TimePeriod while its block is read."""

    name: str
    line: int
    display_name: str | None = None
    ranges: dict[str, str] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    prefer_includes: bool = True

    def build(self) -> ImportedPeriod:
        return ImportedPeriod(
            name=self.name,
            display_name=self.display_name,
            ranges=dict(self.ranges),
            includes=tuple(self.includes),
            excludes=tuple(self.excludes),
            prefer_includes=self.prefer_includes,
            line=self.line,
        )


class _Parser:
    """Reads top-level statements; each handler leaves ``self.i`` after what it consumed."""

    def __init__(self, text: str, source: str, tokens: list[_Token]) -> None:
        self.text = text
        self.source = source
        self.tokens = tokens
        self.i = 0
        self.periods: list[ImportedPeriod] = []
        self.notes: list[str] = []
        self.first_line: dict[str, int] = {}

    def run(self) -> ImportResult:
        while self._at(self.i).kind is not _Kind.END:
            if _is(self._at(self.i), *_TOP_STOPS):
                self.i += 1
            elif self._words(self.i, "object", "TimePeriod"):
                self._period()
            else:
                self._skip_top_level()
        return ImportResult(periods=self.periods, notes=self.notes)

    # helpers

    def _at(self, index: int) -> _Token:
        """The token at ``index``; the END token for any index past the end."""
        return self.tokens[min(index, len(self.tokens) - 1)]

    def _words(self, index: int, *words: str) -> bool:
        return all(
            self._at(index + n).kind is _Kind.NAME and self._at(index + n).text == word
            for n, word in enumerate(words)
        )

    def _raw(self, token: _Token) -> str:
        return self.text[token.start : token.end]

    def _ends_statement(self, index: int) -> bool:
        token = self._at(index)
        return token.kind is _Kind.END or _is(token, *_BODY_STOPS, "}")

    def _error(self, token: _Token, value: str, expected: str) -> ConfigSyntaxError:
        return ConfigSyntaxError(self.source, token.line, _shorten(value), expected)

    def _unclosed(self, opener: _Token) -> ConfigSyntaxError:
        line_start = self.text.rfind("\n", 0, opener.start) + 1
        line_end = self.text.find("\n", opener.start)
        line_text = self.text[line_start : len(self.text) if line_end < 0 else line_end]
        expected = f"expected a matching '{_OPENERS[opener.text]}' before the end of the file"
        return self._error(opener, line_text, expected)

    def _mismatched(self, closer: _Token, opener: _Token | None) -> ConfigSyntaxError:
        if opener is None:
            return self._error(closer, closer.text, f"expected no '{closer.text}': nothing is open")
        closer_text = _OPENERS[opener.text]
        expected = f"expected '{closer_text}' to close '{opener.text}' of line {opener.line}"
        return self._error(closer, closer.text, expected)

    def _skip(self, index: int, enclosing: _Token | None, stops: tuple[str, ...]) -> int:
        """Index of the first token from ``index`` on, outside brackets opened on the way, that
        is one of ``stops`` or closes ``enclosing`` (the END token if ``enclosing`` is None).
        Raises on an unbalanced bracket."""
        stack: list[_Token] = []
        while True:
            token = self._at(index)
            if token.kind is _Kind.END:
                if stack:
                    raise self._unclosed(stack[-1])
                if enclosing is not None:
                    raise self._unclosed(enclosing)
                return index
            if _is(token, *_OPENERS):
                stack.append(token)
            elif _is(token, *_CLOSERS):
                if stack and _OPENERS[stack[-1].text] == token.text:
                    stack.pop()
                elif stack:
                    raise self._mismatched(token, stack[-1])
                elif enclosing is not None and _OPENERS[enclosing.text] == token.text:
                    return index
                else:
                    raise self._mismatched(token, enclosing)
            elif not stack and _is(token, *stops):
                return index
            index += 1

    def _after_match(self, index: int) -> int:
        """Index after the bracket that closes the opener at ``index`` (or of END)."""
        depth = 0
        while self._at(index).kind is not _Kind.END:
            token = self._at(index)
            depth += _is(token, *_OPENERS) - _is(token, *_CLOSERS)
            index += 1
            if depth <= 0:
                break
        return index

    def _summary(self, start: int) -> str:
        """The statement at ``start`` on one line: up to a block, ``{…}`` for a dictionary."""
        out, last_end, depth, index = "", -1, 0, start
        while len(out) <= _SNIPPET:
            token = self._at(index)
            if token.kind is _Kind.END or (depth == 0 and self._summary_stops(start, index)):
                break
            gap = " " if out and token.start > last_end else ""
            if depth == 0 and _is(token, "{"):
                out += gap + "{…}"
                index = self._after_match(index)
                last_end = self._at(index - 1).end
                continue
            if token.kind is not _Kind.NEWLINE:
                out += gap + self._raw(token)
                last_end = token.end
            depth += _is(token, *_OPENERS) - _is(token, *_CLOSERS)
            index += 1
        return _shorten(out)

    def _summary_stops(self, start: int, index: int) -> bool:
        token = self._at(index)
        if _is(token, *_BODY_STOPS, *_CLOSERS):
            return True
        before = self._at(index - 1)
        opens_block = before.kind in (_Kind.NAME, _Kind.STRING, _Kind.NUMBER) or _is(before, ")")
        return index > start and _is(token, "{") and opens_block

    def _is_literal(self, index: int) -> bool:
        """Whether a complete literal (or a dictionary or array) starts at ``index``."""
        token = self._at(index)
        if _is(token, "{", "["):
            return True
        simple = token.kind in (_Kind.STRING, _Kind.NUMBER) or (
            token.kind is _Kind.NAME and token.text in _LITERAL_NAMES
        )
        return simple and self._ends_statement(index + 1)

    # top level

    def _skip_top_level(self) -> None:
        start = self.i
        self.i = self._skip(start, None, _TOP_STOPS)
        summary = self._summary(start)
        if self._words(start, "template", "TimePeriod"):
            reason = "templates are not periods"
        elif self._words(start, "include") or self._words(start, "include_recursive"):
            reason = "included files are not read: import each file on its own"
        else:
            reason = "only TimePeriod objects are imported"
        self.notes.append(f"{self.source}:{self._at(start).line}: {summary} ignored ({reason})")

    def _period(self) -> None:
        start = self.i
        name_token = self._at(start + 2)
        if name_token.kind is not _Kind.STRING:
            value = self._offending(start, start + 2)
            expected = "expected the name of the TimePeriod as a quoted string"
            raise self._error(name_token, value, expected)
        name = name_token.text
        if name in self.first_line:
            expected = f"expected a new name: TimePeriod {_quote(name)} is already defined on line"
            raise self._error(name_token, name, f"{expected} {self.first_line[name]}")
        brace = start + 3 + self._words(start + 3, "ignore_on_error")
        if not _is(self._at(brace), "{"):
            value = self._offending(start, brace)
            expected = "expected '{' on the same line to open the block of TimePeriod"
            raise self._error(self._at(brace), value, f"{expected} {_quote(name)}")
        self.first_line[name] = self._at(start).line
        state = _PeriodState(name=name, line=self._at(start).line)
        self.i = brace + 1
        self._body(self._at(brace), state)
        self.periods.append(state.build())

    def _offending(self, start: int, index: int) -> str:
        """The token at ``index``, or the statement so far when the line or the text ends."""
        token = self._at(index)
        if token.kind in (_Kind.NEWLINE, _Kind.END):
            return " ".join(self._raw(self._at(n)) for n in range(start, index))
        return self._raw(token)

    # TimePeriod block

    def _body(self, brace: _Token, state: _PeriodState) -> None:
        while True:
            token = self._at(self.i)
            if _is(token, *_BODY_STOPS):
                self.i += 1
            elif _is(token, "}"):
                self.i += 1
                return
            elif token.kind is _Kind.END:
                raise self._unclosed(brace)
            elif _is(token, ")", "]"):
                raise self._mismatched(token, brace)
            else:
                self._statement(brace, state)

    def _statement(self, brace: _Token, state: _PeriodState) -> None:
        start = self.i
        token = self._at(start)
        reason: str | None = f"only {_ATTRIBUTES} are imported"
        if token.kind is _Kind.NAME:
            if token.text == "import":
                reason = self._import()
            elif token.text in ("display_name", "prefer_includes"):
                reason = self._scalar(state, token.text)
            elif token.text in ("includes", "excludes"):
                reason = self._names(state, token.text)
            elif token.text == "ranges":
                reason = self._ranges(state)
        if reason is not None:
            self.i = self._skip(start, brace, _BODY_STOPS)
            where = f"{self.source}:{token.line}: {self._summary(start)}"
            self.notes.append(f"{where} in TimePeriod {_quote(state.name)} ignored ({reason})")

    def _import(self) -> str | None:
        template = self._at(self.i + 1)
        is_legacy = template.kind is _Kind.STRING and template.text == "legacy-timeperiod"
        if is_legacy and self._ends_statement(self.i + 2):
            self.i += 2
            return None
        return "templates are not imported"

    def _scalar(self, state: _PeriodState, attribute: str) -> str | None:
        if not _is(self._at(self.i + 1), "="):
            return _UNSUPPORTED
        value = self._at(self.i + 2)
        complete = self._ends_statement(self.i + 3)
        if attribute == "display_name" and value.kind is _Kind.STRING and complete:
            state.display_name = value.text
        elif attribute == "prefer_includes" and value.text in ("true", "false") and complete:
            if value.kind is not _Kind.NAME:
                return "expected true or false"
            state.prefer_includes = value.text == "true"
        elif self._is_literal(self.i + 2):
            return "expected a string" if attribute == "display_name" else "expected true or false"
        else:
            return _NOT_LITERAL
        self.i += 3
        return None

    def _names(self, state: _PeriodState, attribute: str) -> str | None:
        operator = self._at(self.i + 1)
        if not _is(operator, "=", "+="):
            return _UNSUPPORTED
        if not _is(self._at(self.i + 2), "["):
            return "expected a list of strings" if self._is_literal(self.i + 2) else _NOT_LITERAL
        names: list[str] = []
        index = self.i + 3
        while not _is(self._at(index), "]"):
            token = self._at(index)
            if token.kind is _Kind.STRING and _is(self._at(index + 1), ",", "\n", "]"):
                names.append(token.text)
            elif not _is(token, ",", "\n"):
                return "expected a literal list of strings"
            index += 1
        if not self._ends_statement(index + 1):
            return _NOT_LITERAL
        target = state.includes if attribute == "includes" else state.excludes
        if operator.text == "=":
            target.clear()
        target.extend(names)
        self.i = index + 1
        return None

    # ranges

    def _ranges(self, state: _PeriodState) -> str | None:
        after = self._at(self.i + 1)
        if _is(after, "=", "+="):
            return self._ranges_assign(state, replace=after.text == "=")
        if _is(after, "[") and _is(self._at(self.i + 3), "]"):
            key = self._at(self.i + 2)
            if key.kind is _Kind.NUMBER or key.text in _LITERAL_NAMES:
                raise self._error(key, self._raw(key), "expected a ranges key as a string")
            if key.kind is not _Kind.STRING:
                return _NOT_LITERAL
            return self._ranges_set(state, key.text, self.i + 4)
        if _is(after, ".") and self._at(self.i + 2).kind is _Kind.NAME:
            return self._ranges_set(state, self._at(self.i + 2).text.removeprefix("@"), self.i + 3)
        return _UNSUPPORTED

    def _ranges_set(self, state: _PeriodState, key: str, operator: int) -> str | None:
        if not _is(self._at(operator), "="):
            return _UNSUPPORTED
        value = self._at(operator + 1)
        if value.kind is _Kind.STRING and self._ends_statement(operator + 2):
            state.ranges[key] = value.text
            self.i = operator + 2
            return None
        self._reject_non_string(key, operator + 1)
        return _NOT_LITERAL

    def _reject_non_string(self, key: str, index: int) -> None:
        """Raise if the value of ranges ``key`` at ``index`` is a literal but not a string."""
        if self._is_literal(index) and self._at(index).kind is not _Kind.STRING:
            expected = f"expected a string as the value of ranges key {_quote(key)}"
            raise self._error(self._at(index), self._summary(index), expected)

    def _ranges_assign(self, state: _PeriodState, *, replace: bool) -> str | None:
        value = self.i + 2
        if not _is(self._at(value), "{"):
            if self._is_literal(value):
                expected = 'expected a dictionary of ranges such as { monday = "09:00-17:00" }'
                raise self._error(self._at(value), self._summary(value), expected)
            return _NOT_LITERAL
        ranges, reason, end = self._ranges_dict(value)
        if reason is None and not self._ends_statement(end):
            reason = _NOT_LITERAL
        if reason is not None:
            return reason
        if replace:
            state.ranges = ranges
        else:
            state.ranges.update(ranges)
        self.i = end
        return None

    def _ranges_dict(self, opener: int) -> tuple[dict[str, str], str | None, int]:
        """The ranges of the dictionary at ``opener``, why they are no literal (or None),
        and the index after its closing brace."""
        brace = self._at(opener)
        ranges: dict[str, str] = {}
        reason: str | None = None
        index = opener + 1
        while True:
            token = self._at(index)
            if _is(token, "\n", ",", ";"):
                index += 1
                continue
            if _is(token, "}"):
                return ranges, reason, index + 1
            if token.kind is _Kind.END:
                raise self._unclosed(brace)
            if _is(token, ")", "]"):
                raise self._mismatched(token, brace)
            key = self._ranges_key(token)
            has_equals = _is(self._at(index + 1), "=")
            value = self._at(index + 2)
            if has_equals and value.kind is _Kind.STRING and self._ends_statement(index + 3):
                ranges[key] = value.text
                index += 3
                continue
            if has_equals:
                self._reject_non_string(key, index + 2)
            reason = reason or f"the value of ranges key {_quote(key)} is not a literal string"
            index = self._skip(index + 1, brace, _BODY_STOPS)

    def _ranges_key(self, token: _Token) -> str:
        if token.kind is _Kind.STRING:
            return token.text
        if token.kind is _Kind.NAME and token.text not in _LITERAL_NAMES:
            return token.text.removeprefix("@")
        expected = 'expected a ranges key as a string such as "monday"'
        raise self._error(token, self._raw(token), expected)
