"""The row filter's recursive-descent parser (never eval).

    filter     := or_expr END
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" or_expr ")" | comparison
    comparison := NAME ("=" | "!=") literal
                | NAME ("~" | "!~") STRING
                | NAME ["not"] "in" "[" [literal ("," literal)*] "]"
    literal    := STRING | NUMBER | "true" | "false" | "null"

Example: `os = "linux" and env != "test" and not (name ~ "^tmp-" or site in ["lab"])`.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from director_jobs.sync.filter_ast import And, Equals, Expr, InList, Matches, Not, Or
from director_jobs.sync.filter_tokens import FilterSyntaxError, Kind, Token, tokenize

# Deeper nesting than this is surely a mistake, and it keeps Python's stack safe.
MAX_DEPTH = 50
_LITERAL_KEYWORDS = {"true": True, "false": False, "null": None}


def parse_filter(text: str, field: str) -> Expr:
    """Parse `text`; FilterSyntaxError names `field`, the 1-based position and the text."""
    return _Parser(text, field).parse()


class _Parser:
    """One parse of one text."""

    def __init__(self, text: str, field: str) -> None:
        self.text = text
        self.field = field
        self.tokens = list(tokenize(text, field))
        self.index = 0
        self.depth = 0

    def parse(self) -> Expr:
        """The whole filter, which must end after the expression."""
        if self.peek().kind is Kind.END:
            self.fail(self.peek(), "the filter is empty (leave it out to take every row)")
        expression = self.or_expr()
        token = self.peek()
        if token.kind is not Kind.END:
            self.fail(token, f"expected 'and', 'or' or the end, found {token.describe()}")
        return expression

    # -- helpers ------------------------------------------------------------------------

    def peek(self) -> Token:
        """The next token."""
        return self.tokens[self.index]

    def take(self) -> Token:
        """Consume the next token."""
        token = self.tokens[self.index]
        if token.kind is not Kind.END:
            self.index += 1
        return token

    def at(self, kind: Kind, value: Any = None) -> bool:
        """True when the next token has `kind` (and `value`, when given)."""
        token = self.peek()
        return token.kind is kind and (value is None or token.value == value)

    def expect(self, kind: Kind, value: str, what: str) -> Token:
        """Consume a token of `kind`/`value` or fail saying `what` was expected."""
        if not self.at(kind, value):
            self.fail(self.peek(), f"expected {what}, found {self.peek().describe()}")
        return self.take()

    def fail(self, token: Token, problem: str) -> NoReturn:
        """Raise the syntax error at `token`."""
        raise FilterSyntaxError(self.field, self.text, token.position, problem)

    # -- grammar ------------------------------------------------------------------------

    def or_expr(self) -> Expr:
        """and_expr ("or" and_expr)*"""
        parts = [self.and_expr()]
        while self.at(Kind.KEYWORD, "or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Expr:
        """not_expr ("and" not_expr)*"""
        parts = [self.not_expr()]
        while self.at(Kind.KEYWORD, "and"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self) -> Expr:
        """ "not" not_expr | "(" or_expr ")" | comparison"""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(self.peek(), f"nested deeper than {MAX_DEPTH} levels")
        try:
            if self.at(Kind.KEYWORD, "not"):
                self.take()
                return Not(self.not_expr())
            if self.at(Kind.PUNCT, "("):
                self.take()
                inner = self.or_expr()
                self.expect(Kind.PUNCT, ")", "')'")
                return inner
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Expr:
        """A column compared with a literal, a regex or a list."""
        column = self.peek()
        if column.kind is not Kind.NAME:
            self.fail(column, f"expected a column name, 'not' or '(', found {column.describe()}")
        self.take()
        operator = self.peek()
        if operator.kind is Kind.OPERATOR and operator.value in ("=", "!="):
            self.take()
            return Equals(column.value, self.literal(), negate=operator.value == "!=")
        if operator.kind is Kind.OPERATOR:  # ~ or !~
            self.take()
            return Matches(column.value, self.regex(), negate=operator.value == "!~")
        negate = False
        if self.at(Kind.KEYWORD, "not"):
            self.take()
            negate = True
            if not self.at(Kind.KEYWORD, "in"):
                self.fail(self.peek(), f"expected 'in' after 'not', found {self.peek().describe()}")
        if self.at(Kind.KEYWORD, "in"):
            self.take()
            return InList(column.value, self.literal_list(), negate=negate)
        self.fail(
            operator,
            f"expected =, !=, ~, !~ or in after {column.text!r}, found {operator.describe()}",
        )

    def literal(self) -> Any:
        """A string, number, true, false or null."""
        token = self.peek()
        if token.kind in (Kind.STRING, Kind.NUMBER):
            return self.take().value
        if token.kind is Kind.KEYWORD and token.value in _LITERAL_KEYWORDS:
            self.take()
            return _LITERAL_KEYWORDS[token.value]
        hint = ' (quote text: "linux")' if token.kind is Kind.NAME else ""
        self.fail(
            token,
            f"expected a value (string, number, true, false, null), found {token.describe()}{hint}",
        )

    def regex(self) -> re.Pattern[str]:
        """A quoted regular expression, compiled now."""
        token = self.peek()
        if token.kind is not Kind.STRING:
            self.fail(token, f"expected a quoted regular expression, found {token.describe()}")
        self.take()
        try:
            return re.compile(token.value)
        except re.error as exc:
            self.fail(token, f"bad regular expression {token.value!r}: {exc}")

    def literal_list(self) -> tuple[Any, ...]:
        """'[' [literal (',' literal)*] ']'"""
        self.expect(Kind.PUNCT, "[", "'[' to start the list")
        values: list[Any] = []
        if self.at(Kind.PUNCT, "]"):
            self.take()
            return ()
        values.append(self.literal())
        while self.at(Kind.PUNCT, ","):
            self.take()
            values.append(self.literal())
        self.expect(Kind.PUNCT, "]", "',' or ']'")
        return tuple(values)
