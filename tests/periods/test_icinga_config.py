"""Reading TimePeriod objects out of Icinga 2 configuration text."""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from director_jobs.errors import InvalidInput
from director_jobs.periods.icinga_config import (
    ConfigSyntaxError,
    ImportedPeriod,
    ImportResult,
    parse_timeperiods,
)

DEBIAN_FILE = Path("/etc/icinga2/conf.d/timeperiods.conf")
ONLY_PERIODS = "ignored (only TimePeriod objects are imported)"
ONLY_ATTRIBUTES = (
    "ignored (only display_name, ranges, includes, excludes and prefer_includes are imported)"
)

# Line numbers matter: the expected notes and ImportedPeriod.line below refer to them.
REALISTIC = """\
/*
 * Time periods of the ops team. { Braces in comments } do not count.
 */

// Shared values
const WorkStart = "09:00"   # not a period

object Host "web1" {
  address = "192.0.2.10"
  vars.notes = "a } and a { in a string"
  vars.http_vhosts["/"] = { http_uri = "/" }
}

object TimePeriod "work-hours" {
  import "legacy-timeperiod"

  display_name = "Work \\"core\\" hours\\tCET"
  ranges = {
    monday = "09:00-17:00"
    "tuesday" = "09:00-17:00"
    "wednesday" = "09:00-17:00", "thursday" = "09:00-17:00"
    friday = "09:00-16:00"   // early Friday
  }
}

template TimePeriod "base-period" {
  ranges = { "sunday" = "00:00-24:00" }
}

apply Service "ping" {
  check_command = "ping4"
  /* a comment with an unbalanced { brace */
  vars.text = "} not a closer"  // nor is this }
  if (host.vars.os == "Linux") {
    vars.extra = { a = [ 1, 2, { b = "]" } ] }
  }
  assign where host.address
}

object TimePeriod "on-call" {
  import "legacy-timeperiod"
  display_name = {{{On-call "rota" \\n
(weekends)}}}
  ranges = {
    "saturday" = "00:00-24:00"
  }
  ranges += { "sunday" = "00:00-24:00"; "saturday" = "08:00-20:00" }
  ranges["2026-12-24"] = "00:00-24:00"
  ranges.friday = "18:00-24:00"
  includes = [ "work-hours" ]
  includes += [ "holidays" ]
  excludes = [
    "maintenance",
    "holidays-off",
  ]
  prefer_includes = false
  zone = "master"
  vars.team = { name = "ops" }
  if (true) { ranges.monday = "00:00-01:00" }
}

object TimePeriod "holidays" {
  import "legacy-timeperiod"
  ranges = { "2026-12-25" = "", "2026-12-26" = "" }; display_name = "Holidays\\\\2026"
}

globals.Extra = 1
"""


def test_realistic_file_gives_exact_periods() -> None:
    result = parse_timeperiods(REALISTIC, "file.conf")
    assert isinstance(result, ImportResult)
    assert result.periods == [
        ImportedPeriod(
            name="work-hours",
            display_name='Work "core" hours\tCET',
            ranges={
                "monday": "09:00-17:00",
                "tuesday": "09:00-17:00",
                "wednesday": "09:00-17:00",
                "thursday": "09:00-17:00",
                "friday": "09:00-16:00",
            },
            line=14,
        ),
        ImportedPeriod(
            name="on-call",
            display_name='On-call "rota" \\n\n(weekends)',
            ranges={
                "saturday": "08:00-20:00",
                "sunday": "00:00-24:00",
                "2026-12-24": "00:00-24:00",
                "friday": "18:00-24:00",
            },
            includes=("work-hours", "holidays"),
            excludes=("maintenance", "holidays-off"),
            prefer_includes=False,
            line=40,
        ),
        ImportedPeriod(
            name="holidays",
            display_name="Holidays\\2026",
            ranges={"2026-12-25": "", "2026-12-26": ""},
            line=62,
        ),
    ]
    # dict equality ignores order; the brief promises insertion order
    assert list(result.periods[0].ranges) == [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
    ]
    assert list(result.periods[1].ranges) == ["saturday", "sunday", "2026-12-24", "friday"]


def test_realistic_file_gives_exact_notes() -> None:
    result = parse_timeperiods(REALISTIC, "file.conf")
    assert result.notes == [
        f'file.conf:6: const WorkStart = "09:00" {ONLY_PERIODS}',
        f'file.conf:8: object Host "web1" {ONLY_PERIODS}',
        'file.conf:26: template TimePeriod "base-period" ignored (templates are not periods)',
        f'file.conf:30: apply Service "ping" {ONLY_PERIODS}',
        f'file.conf:57: zone = "master" in TimePeriod "on-call" {ONLY_ATTRIBUTES}',
        f'file.conf:58: vars.team = {{…}} in TimePeriod "on-call" {ONLY_ATTRIBUTES}',
        f'file.conf:59: if (true) in TimePeriod "on-call" {ONLY_ATTRIBUTES}',
        f"file.conf:67: globals.Extra = 1 {ONLY_PERIODS}",
    ]


def test_default_source_name_and_empty_text() -> None:
    assert parse_timeperiods("") == ImportResult(periods=[], notes=[])
    assert parse_timeperiods("// only a comment\n# another\n/* and\n one */\n;\n").periods == []
    result = parse_timeperiods('const X = 1\nobject TimePeriod "a" { }')
    assert result.notes == [f"<string>:1: const X = 1 {ONLY_PERIODS}"]
    assert result.periods == [ImportedPeriod(name="a", line=2)]


def test_defaults_of_an_empty_period() -> None:
    (period,) = parse_timeperiods('\n\nobject TimePeriod "never" {\n}\n').periods
    assert period.display_name is None
    assert period.ranges == {}
    assert period.includes == ()
    assert period.excludes == ()
    assert period.prefer_includes is True
    assert period.line == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # = replaces, += merges (existing keys keep their place), [..] and . set one key
        (
            'ranges = { a = "1" }\nranges = { b = "2" }',
            {"b": "2"},
        ),
        (
            'ranges = { a = "1", b = "2" }\nranges += { c = "3", a = "4" }',
            {"a": "4", "b": "2", "c": "3"},
        ),
        ('ranges += { a = "1" }', {"a": "1"}),
        ('ranges["day 1 - 15"] = "x"; ranges.@monday = "y"', {"day 1 - 15": "x", "monday": "y"}),
        ('ranges = {\n\n  a = "1",\n\n  b = "2";\n  c = "3" }', {"a": "1", "b": "2", "c": "3"}),
        ('ranges = { a = "1", a = "2" }', {"a": "2"}),
        ('ranges = { @import = "1", "@b" = "2" }', {"import": "1", "@b": "2"}),
        ('ranges = { "a" = {{{x\ny}}} }', {"a": "x\ny"}),
        ('ranges = {}\nranges.a = ""', {"a": ""}),
    ],
)
def test_ranges_forms(body: str, expected: dict[str, str]) -> None:
    (period,) = parse_timeperiods(f'object TimePeriod "p" {{\n{body}\n}}\n').periods
    assert period.ranges == expected
    assert list(period.ranges) == list(expected)


def test_includes_and_excludes_forms() -> None:
    text = """object TimePeriod "p" {
      includes = [ "a" ]
      includes = [ "b", "c" ]
      includes += []
      includes += [ "d" ]
      excludes += [ "x" ]
      excludes = [ ]
      prefer_includes = false
      prefer_includes = true
    }
    object TimePeriod "q" { prefer_includes = false, excludes = [ "a", "b" ] }
    """
    first, second = parse_timeperiods(text).periods
    assert first.includes == ("b", "c", "d")
    assert first.excludes == ()
    assert first.prefer_includes is True
    assert second.prefer_includes is False
    assert second.excludes == ("a", "b")


def test_string_escapes() -> None:
    text = (
        'object TimePeriod "a\\"b" { display_name = "q\\"\\\\\\n\\t\\r\\b\\f\\101\\7!" }\n'
        'object TimePeriod "c // no comment # nor this /* */ {" { ignore = 1 }\n'
    )
    first, second = parse_timeperiods(text).periods
    assert first.name == 'a"b'
    assert first.display_name == 'q"\\\n\t\r\b\fA\x07!'
    assert second.name == "c // no comment # nor this /* */ {"


def test_windows_line_endings_and_byte_order_mark() -> None:
    text = '\ufeffobject TimePeriod "a" {\r\n  display_name = "x"\r\n  zone = 1\r\n}\r\n'
    result = parse_timeperiods(text, "w.conf")
    assert result.periods == [ImportedPeriod(name="a", display_name="x", line=1)]
    assert result.notes == [f'w.conf:3: zone = 1 in TimePeriod "a" {ONLY_ATTRIBUTES}']


def test_statements_after_a_block_on_the_same_line() -> None:
    text = 'object TimePeriod "a" {} object TimePeriod "b" { ranges = { x = "1" } }'
    assert parse_timeperiods(text).periods == [
        ImportedPeriod(name="a", line=1),
        ImportedPeriod(name="b", ranges={"x": "1"}, line=1),
    ]


def test_periods_inside_other_statements_are_not_imported() -> None:
    text = 'if (x) {\n  object TimePeriod "y" {}\n}\nelse {\n object TimePeriod "z" {}\n}\n'
    result = parse_timeperiods(text + 'object TimePeriod "b" {}', "c.conf")
    assert result.periods == [ImportedPeriod(name="b", line=7)]
    assert result.notes == [f"c.conf:1: if (x) {ONLY_PERIODS}", f"c.conf:4: else {ONLY_PERIODS}"]


def test_ignore_on_error_is_accepted() -> None:
    text = 'object TimePeriod "a" ignore_on_error { ranges = { monday = "x" } }'
    (period,) = parse_timeperiods(text).periods
    assert period == ImportedPeriod(name="a", ranges={"monday": "x"}, line=1)


def test_block_comments_count_lines() -> None:
    text = '/* one\ntwo\nthree */ object TimePeriod "a" {\n  bad = 1\n}\n'
    result = parse_timeperiods(text, "f.conf")
    assert result.periods[0].line == 3
    assert result.notes == [f'f.conf:4: bad = 1 in TimePeriod "a" {ONLY_ATTRIBUTES}']


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("ranges = get_ranges()", "not a literal value"),
        ('ranges += { monday = WorkStart + "-17:00" }', None),
        ('ranges = { monday = "09:00" + "-17:00" }', None),
        ('ranges = { "monday" = "x" } + other', "not a literal value"),
        ("ranges = { monday }", None),
        ('ranges -= { monday = "x" }', "not a supported assignment"),
        ('ranges["monday"] += "x"', "not a supported assignment"),
        ('ranges[key] = "x"', "not a literal value"),
        ("ranges.monday = WorkHours", "not a literal value"),
        ('display_name = "a" + "b"', "not a literal value"),
        ("display_name = 42", "expected a string"),
        ('display_name += "x"', "not a supported assignment"),
        ('prefer_includes = "no"', "expected true or false"),
        ("prefer_includes = !true", "not a literal value"),
        ("includes = [ Holidays ]", "expected a literal list of strings"),
        ('includes = [ "a" ] + more', "not a literal value"),
        ('excludes = "a"', "expected a list of strings"),
        ('excludes -= [ "a" ]', "not a supported assignment"),
        ("excludes = all_periods", "not a literal value"),
        ('import "generic-timeperiod"', "templates are not imported"),
        ('import "legacy-timeperiod" + x', "templates are not imported"),
    ],
)
def test_non_literal_values_are_notes(statement: str, reason: str | None) -> None:
    text = (
        'object TimePeriod "p" {\n'
        '  ranges = { sunday = "1" }\n'
        '  display_name = "kept"\n'
        '  includes = [ "kept" ]\n'
        '  excludes = [ "kept" ]\n'
        f"  {statement}\n"
        "}\n"
    )
    result = parse_timeperiods(text, "t.conf")
    assert result.periods == [
        ImportedPeriod(
            name="p",
            display_name="kept",
            ranges={"sunday": "1"},
            includes=("kept",),
            excludes=("kept",),
            line=1,
        )
    ]
    (note,) = result.notes
    assert note.startswith("t.conf:6: ")
    assert ' in TimePeriod "p" ignored (' in note
    if reason is None:  # a value inside the ranges dictionary
        assert note.endswith('(the value of ranges key "monday" is not a literal string)')
    else:
        assert note.endswith(f"({reason})")


def test_note_quotes_the_statement() -> None:
    text = 'object TimePeriod "p" {\n  ranges = get_ranges(host.name, "x")\n}\n'
    assert parse_timeperiods(text, "t.conf").notes == [
        't.conf:2: ranges = get_ranges(host.name, "x") in TimePeriod "p" ignored '
        "(not a literal value)"
    ]


def test_include_statement_note() -> None:
    text = 'include "timeperiods.conf"\ninclude <itl>\n'
    assert parse_timeperiods(text, "icinga2.conf").notes == [
        'icinga2.conf:1: include "timeperiods.conf" ignored '
        "(included files are not read: import each file on its own)",
        "icinga2.conf:2: include <itl> ignored "
        "(included files are not read: import each file on its own)",
    ]


def test_long_statements_are_shortened_in_notes() -> None:
    text = "const X = [ " + ", ".join(f'"item{n}"' for n in range(40)) + " ]\n"
    (note,) = parse_timeperiods(text, "c.conf").notes
    summary = note.removeprefix("c.conf:1: ").removesuffix(f" {ONLY_PERIODS}")
    assert summary.startswith('const X = [ "item0", "item1"')
    assert summary.endswith("…")
    assert len(summary) == 60


E = "expected"  # keeps the parametrised lines short
ERROR_CASES = [
    # unterminated strings and comments
    (
        'object TimePeriod "a" {\n  display_name = "oops\n}\n',
        "file.conf:2: invalid value '\"oops': expected a closing '\"' on the same line",
    ),
    ('const X = "no end', "file.conf:1: invalid value '\"no end': expected a closing"),
    ('const X = "ends in a backslash\\', "file.conf:1: invalid value '\"ends in a backslash"),
    (
        "\n\n/* never closed\nobject TimePeriod",
        "file.conf:3: invalid value '/* never closed': expected '*/'",
    ),
    (
        "const A = 1\nconst X = {{{ never\n closed }}",
        "file.conf:2: invalid value '{{{ never': expected '}}}'",
    ),
    ('const X = "a\\qb"', "file.conf:1: invalid value '\\\\q': expected one of the escapes"),
    # unbalanced brackets
    (
        '// c\nobject TimePeriod "a" {\n  ranges = { monday = "x" }\n',
        "file.conf:2: invalid value 'object TimePeriod \"a\" {': expected a matching '}'",
    ),
    (
        'object Host "h" {\n  vars.x = "{"\n',
        "file.conf:1: invalid value 'object Host \"h\" {': expected a matching '}'",
    ),
    ("const X = 1\n}\n", "file.conf:2: invalid value '}': expected no '}'"),
    (
        'apply Service "s" {\n  assign where f(x}\n}\n',
        "file.conf:2: invalid value '}': expected ')' to close '(' of line 2",
    ),
    (
        'object TimePeriod "a" {\n  ranges = { monday = "x" ]\n}\n',
        "file.conf:2: invalid value ']': expected '}' to close '{' of line 2",
    ),
    (
        'object TimePeriod "a" {\n  ]\n}\n',
        "file.conf:2: invalid value ']': expected '}' to close '{' of line 1",
    ),
    (
        'object TimePeriod "a" {\n  includes = [ "b"\n',
        "file.conf:2: invalid value 'includes = [ \"b\"': expected a matching ']'",
    ),
    # a TimePeriod without a name string or a block
    (
        "object TimePeriod {\n}\n",
        f"file.conf:1: invalid value '{{': {E} the name of the TimePeriod",
    ),
    ("object TimePeriod work {}", f"file.conf:1: invalid value 'work': {E} the name"),
    ("\nobject TimePeriod\n", f"file.conf:2: invalid value 'object TimePeriod': {E} the name"),
    (
        'object TimePeriod "a"\n{\n}\n',
        "file.conf:1: invalid value 'object TimePeriod \"a\"': expected '{' on the same line",
    ),
    ('object TimePeriod "a"', "file.conf:1: invalid value 'object TimePeriod \"a\"': expected '{'"),
    (
        'object TimePeriod "a" inherits "b" {}',
        "file.conf:1: invalid value 'inherits': expected '{'",
    ),
    ('object TimePeriod "a" + "b" {}', "file.conf:1: invalid value '+': expected '{' on the same"),
    # a name used twice
    (
        'object TimePeriod "a" {}\ntemplate TimePeriod "a" {}\nobject TimePeriod "a" {}',
        "file.conf:3: invalid value 'a': expected a new name: TimePeriod \"a\" is already defined "
        "on line 1",
    ),
    # ranges keys and values that are literals but not strings
    (
        'object TimePeriod "a" {\n  ranges = { monday = 9 }\n}',
        "file.conf:2: invalid value '9': expected a string as the value of ranges key \"monday\"",
    ),
    (
        'object TimePeriod "a" {\n ranges = { "x" = true }\n}',
        "file.conf:2: invalid value 'true': expected a string as the value of ranges key \"x\"",
    ),
    ('object TimePeriod "a" {\n ranges = { x = null, }\n}', "file.conf:2: invalid value 'null'"),
    (
        'object TimePeriod "a" {\nranges = { x = [ "1" ] }\n}',
        "file.conf:2: invalid value '[ \"1\" ]'",
    ),
    ('object TimePeriod "a" {\nranges = { x = { } }\n}', "file.conf:2: invalid value '{…}'"),
    (
        'object TimePeriod "a" {\nranges = { 5 = "x" }\n}',
        "file.conf:2: invalid value '5': expected",
    ),
    (
        'object TimePeriod "a" {\nranges = { + = "x" }\n}',
        "file.conf:2: invalid value '+': expected",
    ),
    ('object TimePeriod "a" {\nranges[5] = "x"\n}', "file.conf:2: invalid value '5': expected a"),
    ('object TimePeriod "a" {\nranges.x = 1.5\n}', "file.conf:2: invalid value '1.5': expected a"),
    ('object TimePeriod "a" {\nranges["x"] = false\n}', "file.conf:2: invalid value 'false': "),
    (
        'object TimePeriod "a" {\nranges = "monday"\n}',
        "file.conf:2: invalid value '\"monday\"': expected a dictionary of ranges",
    ),
]


@pytest.mark.parametrize(("text", "prefix"), ERROR_CASES)
def test_errors_name_file_line_and_text(text: str, prefix: str) -> None:
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_timeperiods(text, "file.conf")
    message = str(caught.value)
    assert message.startswith(prefix)
    assert "\n" not in message
    assert isinstance(caught.value, InvalidInput)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == f"file.conf:{caught.value.line}"
    assert caught.value.source == "file.conf"


def test_error_expectations_in_full() -> None:
    """A few complete messages, so the wording is pinned too."""
    cases = {
        'x = "abc': "f:1: invalid value '\"abc': expected a closing '\"' on the same line",
        "/* x": "f:1: invalid value '/* x': expected '*/' to close the comment",
        "{{{ x": "f:1: invalid value '{{{ x': expected '}}}' to close the string",
        "{": "f:1: invalid value '{': expected a matching '}' before the end of the file",
        'object TimePeriod "a"': "f:1: invalid value 'object TimePeriod \"a\"': expected '{' on "
        'the same line to open the block of TimePeriod "a"',
        "object TimePeriod 5": "f:1: invalid value '5': expected the name of the TimePeriod as a "
        "quoted string",
    }
    for text, message in cases.items():
        with pytest.raises(ConfigSyntaxError) as caught:
            parse_timeperiods(text, "f")
        assert str(caught.value) == message


def test_template_does_not_take_the_name() -> None:
    text = 'template TimePeriod "a" {}\nobject TimePeriod "a" {}\n'
    assert [period.name for period in parse_timeperiods(text).periods] == ["a"]


def test_debian_timeperiods_conf() -> None:
    if not DEBIAN_FILE.exists():
        message = f"{DEBIAN_FILE} is absent: apt-get install icinga2"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = parse_timeperiods(DEBIAN_FILE.read_text(encoding="utf-8"), str(DEBIAN_FILE))
    periods = {period.name: period for period in result.periods}
    assert {"24x7", "9to5", "never"} <= set(periods)
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    assert periods["24x7"].ranges == dict.fromkeys(weekdays, "00:00-24:00")
    assert list(periods["24x7"].ranges) == weekdays
    assert periods["9to5"].ranges == dict.fromkeys(weekdays[:5], "09:00-17:00")
    assert periods["never"].ranges == {}


# --- properties ------------------------------------------------------------------------------

FRAGMENTS = st.lists(
    st.sampled_from(
        [
            "{",
            "}",
            "[",
            "]",
            "(",
            ")",
            '"',
            "\\",
            "/*",
            "*/",
            "//",
            "#",
            "\n",
            " ",
            "=",
            "+=",
            ",",
            ";",
            "{{{",
            "}}}",
            "object",
            "template",
            "TimePeriod",
            '"p"',
            "ranges",
            "includes",
            "display_name",
            "monday",
            '"09:00"',
            "5",
            "true",
            "import",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(FRAGMENTS, st.text(max_size=80)))
def test_any_text_gives_a_result_or_a_syntax_error(text: str) -> None:
    try:
        result = parse_timeperiods(text, "fuzz.conf")
    except ConfigSyntaxError as error:
        assert str(error).startswith("fuzz.conf:")
        assert "\n" not in str(error)
    else:
        assert all(note.startswith("fuzz.conf:") for note in result.notes)
        assert all("\n" not in note for note in result.notes)


def _icinga_string(value: str) -> str:
    """``value`` as an Icinga 2 string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


IDENTIFIER = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda word: word not in {"true", "false", "null"}
)
ANY_TEXT = st.text(alphabet=string.printable, max_size=20)
PERIOD = st.fixed_dictionaries(
    {
        "display_name": st.none() | ANY_TEXT,
        "ranges": st.dictionaries(st.one_of(IDENTIFIER, ANY_TEXT), ANY_TEXT, max_size=5),
        "includes": st.lists(ANY_TEXT, max_size=3),
        "excludes": st.lists(ANY_TEXT, max_size=3),
        "prefer_includes": st.booleans(),
        "bare_keys": st.booleans(),
    }
)


KEYWORDS = frozenset({"true", "false", "null"})


def _key(key: str, bare: bool) -> str:
    """A ranges key, bare like ``monday`` when asked and possible."""
    if bare and key.isascii() and key.isidentifier() and key not in KEYWORDS:
        return key
    return _icinga_string(key)


def _render(name: str, period: dict[str, Any], separator: str) -> str:
    lines = [f"object TimePeriod {_icinga_string(name)} {{", '  import "legacy-timeperiod"']
    if period["display_name"] is not None:
        lines.append(f"  display_name = {_icinga_string(period['display_name'])}")
    items = [
        f"{_key(key, period['bare_keys'])} = {_icinga_string(value)}"
        for key, value in period["ranges"].items()
    ]
    lines.append("  ranges = {" + separator.join(items) + "}")
    for attribute in ("includes", "excludes"):
        names = ", ".join(map(_icinga_string, period[attribute]))
        lines.append(f"  {attribute} = [ {names} ]")
    lines.append(f"  prefer_includes = {'true' if period['prefer_includes'] else 'false'}")
    lines.append("}")
    return "\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(ANY_TEXT, PERIOD, max_size=4),
    st.sampled_from([", ", "\n", "; ", ",\n"]),
)
def test_rendered_periods_read_back(periods: dict[str, dict[str, Any]], separator: str) -> None:
    text = "\n\n".join(_render(name, period, separator) for name, period in periods.items())
    result = parse_timeperiods(text, "gen.conf")
    assert result.notes == []
    assert [period.name for period in result.periods] == list(periods)
    for read, (name, period) in zip(result.periods, periods.items(), strict=True):
        assert read.display_name == period["display_name"]
        assert read.ranges == period["ranges"]
        assert list(read.ranges) == list(period["ranges"])
        assert read.includes == tuple(period["includes"])
        assert read.excludes == tuple(period["excludes"])
        assert read.prefer_includes == period["prefer_includes"]
        assert read.name == name
