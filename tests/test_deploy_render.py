"""Rendering: golden files, determinism, strict names, and hostile values that stay inert.

The hostile-value tests hand the rendered files to the real `icinga2 daemon -C` and read
back the objects it created (CacheDir/icinga2.debug): exactly the expected objects exist and
every value arrives byte for byte as it was given.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
from icinga import read_objects_cache, require_icinga2
from test_deploy_support import SAMPLE

from director_jobs.deploy import dsl
from director_jobs.deploy.commands import CommandRunner
from director_jobs.deploy.directory import write_files
from director_jobs.deploy.dsl import MacroPolicy, RenderError
from director_jobs.deploy.render import MonitoringObject, render
from director_jobs.deploy.validate import DEFAULT_INCLUDES, ValidationResult, validate_tree

GOLDEN = Path(__file__).parent / "data" / "deploy"
# DIRECTOR_JOBS_REGEN_GOLDEN=1 rewrites the golden files from the current renderer.
REGEN = os.environ.get("DIRECTOR_JOBS_REGEN_GOLDEN") == "1"

HOSTILE = [
    'quote " inside',
    "back\\slash and trailing \\",
    '\\"',
    "${host.vars.secret}",
    "$host.name$ and $$ and $",
    "line1\nline2\r\nline3",
    "tab\tbell\aNUL\x00DEL\x7fESC\x1b",
    "} closing brace",
    '"; object Host "evil" {',
    '"\n}\nobject Host "evil2" {\n  address = "6.6.6.6"\n}\n//',
    "{{{ multi }}} /* comment */ // comment # hash",
    'include "/etc/passwd"',
    "ünïcödé ☃ 𝄞 \u2028 \u0085",
    "\\042",
    "",
]


def objects(rows: list[tuple[str, str, dict[str, Any]]]) -> list[MonitoringObject]:
    """MonitoringObjects from (type, name, properties)."""
    return [MonitoringObject(t, n, p) for t, n, p in rows]


def validate(tree: Path, workdir: Path) -> ValidationResult:
    """The real icinga2 on `tree`, with the stock includes; its cache stays in `workdir`."""
    workdir.mkdir()
    return validate_tree(
        tree,
        command=[require_icinga2(), "daemon", "-C"],
        includes=DEFAULT_INCLUDES,
        runner=CommandRunner(),
        timeout=60,
        workdir=workdir,
    )


def created(workdir: Path, icinga_type: str) -> dict[str, dict[str, Any]]:
    """Objects of `icinga_type` that icinga2 created, by their full name."""
    return {
        record["name"]: record["properties"]
        for record in read_objects_cache(workdir / "icinga2.debug")
        if record["type"] == icinga_type
    }


# -- golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["flat", "zones"])
def test_rendering_matches_the_golden_files(layout: str) -> None:
    prefix = "" if layout == "flat" else "zones.d/master/"
    config = render(objects(SAMPLE), prefix)
    golden = GOLDEN / layout
    if REGEN:
        write_files(golden, config.files)
    expected = {
        str(p.relative_to(golden)): p.read_text(encoding="utf-8") for p in golden.rglob("*.conf")
    }
    assert config.files == expected
    assert config.object_count == len(SAMPLE)


def test_golden_configuration_is_valid_for_icinga2(tmp_path: Path) -> None:
    result = validate(GOLDEN / "flat", tmp_path / "v")
    assert result.ok, result.output
    hosts = created(tmp_path / "v", "Host")
    assert sorted(hosts) == ["db01", "web01"]
    assert hosts["db01"]["check_interval"] == 300  # "5m" became a duration
    assert hosts["db01"]["vars"] == {"os": "linux", "in": True, "disk wfree": "10%"}
    services = created(tmp_path / "v", "Service")
    assert sorted(services) == ["db01-ping", "http"]
    assert services["http"]["host_name"] == "web01"
    assert services["http"]["vars"]["http_vhost"] == "$host.name$"  # a macro, kept
    assert sorted(created(tmp_path / "v", "User")) == ["alice"]


def test_output_is_deterministic_whatever_the_order() -> None:
    first = render(objects(SAMPLE))
    shuffled = [
        (t, n, dict(reversed(list(p.items())))) for t, n, p in random.Random(7).sample(SAMPLE, 8)
    ]
    second = render(objects(shuffled))
    assert second.files == first.files
    assert second.checksum == first.checksum
    assert list(first.files) == [
        "hosts.conf",
        "hostgroups.conf",
        "services.conf",
        "servicegroups.conf",
        "users.conf",
        "usergroups.conf",
    ]


def test_checksum_changes_with_content_and_layout() -> None:
    base = render(objects(SAMPLE))
    changed = render(objects([*SAMPLE[:-1], ("usergroup", "admins", {"display_name": "x"})]))
    zoned = render(objects(SAMPLE), "zones.d/master/")
    assert len({base.checksum, changed.checksum, zoned.checksum}) == 3


def test_no_objects_renders_no_files() -> None:
    config = render([])
    assert config.files == {} and config.object_count == 0


# -- literals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("plain", '"plain"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("a\nb\rc\td", '"a\\nb\\rc\\td"'),
        ("\x00\x01\x1f\x7f", '"\\000\\001\\037\\177"'),
        # flex reads `\\0017` as the bad escape `\\[0-9]+`: a digit after octal is octal too
        ("\x017", '"\\001\\067"'),
        ("\x0178a", '"\\001\\067\\070a"'),
        ("\\0017", '"\\\\0017"'),
        ("$macro$ ${x}", '"$macro$ ${x}"'),  # `\\$` would be a syntax error in Icinga 2
        ("ü☃", '"ü☃"'),
    ],
)
def test_string_literals(text: str, literal: str) -> None:
    assert dsl.string(text) == literal


@pytest.mark.parametrize(
    ("number", "literal"),
    [
        (3, "3"),
        (-2, "-2"),
        (3.0, "3"),
        (0.5, "0.5"),
        (1.5e-7, "0.00000015"),
        (1e21, "1" + "0" * 21),
    ],
)
def test_numbers_never_use_an_exponent(number: float, literal: str) -> None:
    assert dsl.number(number) == literal


def test_values_lists_and_dicts_with_quoted_sorted_keys() -> None:
    assert dsl.value([1, True, None, "x", [], {}]) == '[ 1, true, null, "x", [ ], { } ]'
    assert dsl.value({"b": 1, "a b": {"c": False}}) == '{ "a b" = { "c" = false }, "b" = 1 }'


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_numbers_are_refused(bad: float) -> None:
    with pytest.raises(RenderError, match=r"object host 'h'.*attribute 'vars'.*finite"):
        render(objects([("host", "h", {"vars": {"x": bad}})]))


def test_custom_variable_names_that_are_no_identifiers_are_quoted() -> None:
    config = render(objects([("host", "h", {"vars": {"in": 1, "a-b": 2, "ok": 3, "1x": 4}})]))
    text = config.files["hosts.conf"]
    assert 'vars["in"] = 1' in text and 'vars["a-b"] = 2' in text
    assert "vars.ok = 3" in text and 'vars["1x"] = 4' in text


def test_dotted_property_names_become_safe_paths() -> None:
    config = render(objects([("host", "h", {"vars.os": "linux", "vars.a b.c": 1})]))
    text = config.files["hosts.conf"]
    assert 'vars.os = "linux"' in text and 'vars["a b"].c = 1' in text


def test_durations_only_in_interval_attributes() -> None:
    config = render(objects([("host", "h", {"check_interval": "90s", "notes": "5m"})]))
    text = config.files["hosts.conf"]
    assert "check_interval = 90s" in text and 'notes = "5m"' in text
    weird = render(objects([("host", "h", {"check_interval": "5m; x = 1"})]))
    assert 'check_interval = "5m; x = 1"' in weird.files["hosts.conf"]


def test_service_names_with_host_prefix() -> None:
    config = render(objects([("service", "web01!ping", {"check_command": "ping4"})]))
    assert 'object Service "ping" {' in config.files["services.conf"]
    assert 'host_name = "web01"' in config.files["services.conf"]
    with pytest.raises(RenderError, match="contradicts"):
        render(objects([("service", "web01!ping", {"host_name": "db01"})]))


# -- refused input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("host", "a!b", {}), r"object host 'a!b': .*'!'"),
        (("host", "", {}), r"object host '': .*non-empty"),
        (("host", "line\nbreak", {}), r"control characters"),
        (("host", "h", {"bad name": 1}), r"object host 'h': attribute 'bad name'"),
        (("host", "h", {"in": 1}), r"attribute 'in'"),
        (("host", "h", {"1st": 1}), r"attribute '1st'"),
        (("host", "h", {"vars..x": 1}), r"attribute 'vars..x'.*empty"),
        (("host", "h", {'x"; object Host "e" {': 1}), r"attribute 'x\"; object Host"),
        (("host", "h", {"imports": [3]}), r"imports must be"),
        (("host", "h", {"vars": {"": 1}}), r"custom variable name"),
        (("host", "h", {"name": "other"}), r"property 'name' contradicts"),
        (("host", "h", {"vars": {"x": "\ud800"}}), r"object host 'h': attribute 'vars'"),
        (("host", "\ud800", {}), r"object host '\\ud800'"),
        (("command", "c", {}), r"object command 'c': unknown object type"),
        (("host", "h", ["not", "a", "dict"]), r"object host 'h': properties must be"),
    ],
)
def test_unsafe_names_are_refused_naming_the_object(
    row: tuple[str, str, dict[str, Any]], message: str
) -> None:
    with pytest.raises(RenderError, match=message):
        render(objects([row]))


# -- hostile values through the real icinga2 -------------------------------------------------


def hostile_rows() -> list[tuple[str, str, dict[str, Any]]]:
    """Hosts whose every string is hostile: names, values, list items, dict keys and values."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for index, text in enumerate(HOSTILE):
        name = "".join(c for c in text if ord(c) >= 32 and c not in "!\x7f") or "empty"
        rows.append(
            (
                "host",
                f"h{index} {name}",
                {
                    "check_command": "hostalive",
                    "address": text,
                    "display_name": text,
                    "notes": text,
                    "vars": {text or "k": text, "list": [text, text], "dict": {text: [text]}},
                },
            )
        )
    return rows


def macro_escaped(item: Any, policy: MacroPolicy) -> Any:
    """What icinga2 should hold for a custom variable value under `policy`."""
    if isinstance(item, str):
        return policy.apply(item)
    if isinstance(item, dict):
        return {k: macro_escaped(v, policy) for k, v in item.items()}
    if isinstance(item, list):
        return [macro_escaped(v, policy) for v in item]
    return item


@pytest.mark.parametrize("policy", [MacroPolicy.UNBALANCED, MacroPolicy.ALWAYS])
def test_hostile_values_are_inert_and_round_trip_through_icinga2(
    tmp_path: Path, policy: MacroPolicy
) -> None:
    rows = hostile_rows()
    config = render(objects(rows), macros=policy)
    write_files(tmp_path / "tree", config.files)
    result = validate(tmp_path / "tree", tmp_path / "v")
    assert result.ok, result.output
    assert f"Instantiated {len(rows)} Hosts." in result.output
    hosts = created(tmp_path / "v", "Host")
    assert sorted(hosts) == sorted(name for _, name, _ in rows)  # no "evil" host appeared
    for _, name, properties in rows:
        got = hosts[name]
        for key in ("address", "display_name", "notes"):
            # An empty display_name is replaced by the object name, as Icinga does.
            assert got[key] == (properties[key] or (name if key == "display_name" else "")), key
        assert got["vars"] == macro_escaped(properties["vars"], policy), name


def test_random_text_round_trips_through_icinga2(tmp_path: Path) -> None:
    # Seeded, so a failure can be reproduced: 400 strings over ASCII, controls and Unicode.
    rng = random.Random(20261123)
    alphabet = [chr(c) for c in range(0, 128)] + list("äß☃𝄞\u2028\ufeff")
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(400)]
    variables = {f"v{i}": text for i, text in enumerate(texts)}
    keyed = {text: i for i, text in enumerate(texts) if text}
    rows = [
        ("host", "random", {"check_command": "hostalive", "vars": {**variables, "keyed": keyed}})
    ]
    write_files(tmp_path / "tree", render(objects(rows)).files)
    result = validate(tmp_path / "tree", tmp_path / "v")
    assert result.ok, result.output
    expected = macro_escaped(rows[0][2]["vars"], MacroPolicy.UNBALANCED)
    assert created(tmp_path / "v", "Host")["random"]["vars"] == expected


def test_macro_policies() -> None:
    assert MacroPolicy.UNBALANCED.apply("$host.name$") == "$host.name$"
    assert MacroPolicy.UNBALANCED.apply("costs 5$") == "costs 5$$"
    assert MacroPolicy.UNBALANCED.apply("${x}") == "$${x}"
    assert MacroPolicy.ALWAYS.apply("$host.name$") == "$$host.name$$"
    assert MacroPolicy.NEVER.apply("${x}") == "${x}"
    config = render(
        objects([("host", "h", {"notes": "5$", "vars.a": "5$", "vars": {"b": ["5$"]}})])
    )
    text = config.files["hosts.conf"]
    assert 'notes = "5$"' in text  # only custom variables are macro strings
    assert 'vars.a = "5$$"' in text and 'vars.b = [ "5$$" ]' in text


def test_a_stray_dollar_fails_validation_when_macros_are_never_escaped(tmp_path: Path) -> None:
    rows = [("host", "h", {"check_command": "hostalive", "vars": {"price": "5$"}})]
    write_files(tmp_path / "tree", render(objects(rows), macros=MacroPolicy.NEVER).files)
    result = validate(tmp_path / "tree", tmp_path / "v")
    assert not result.ok
    assert "Closing $ not found in macro format string '5$'" in result.output


def test_an_invalid_object_fails_validation_with_its_location(tmp_path: Path) -> None:
    rows = [("host", "broken", {"check_command": "no-such-command"})]
    write_files(tmp_path / "tree", render(objects(rows)).files)
    result = validate(tmp_path / "tree", tmp_path / "v")
    assert not result.ok
    assert "no-such-command" in result.output and "hosts.conf" in result.output
    assert "exit code 1" in result.reason
