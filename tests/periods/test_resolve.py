"""resolve_periods: building periods from definitions that refer to each other by name."""

from __future__ import annotations

import pytest

from director_jobs.periods import InvalidTimeRange, PeriodDefinition, resolve_periods
from director_jobs.periods.period import MAX_NESTING

from .helpers import utc


def test_builds_references_first_and_keeps_order() -> None:
    definitions = {
        "work": PeriodDefinition(
            {"monday": "09:00-17:00"},
            excludes=("holidays",),
            includes=("on-call",),
            timezone="Europe/Berlin",
            display_name="Work hours",
        ),
        "holidays": PeriodDefinition({"2026-01-05": "00:00-24:00"}, timezone="Europe/Berlin"),
        "on-call": PeriodDefinition({"2026-01-05": "10:00-11:00"}, timezone="Europe/Berlin"),
    }
    periods = resolve_periods(definitions)
    assert list(periods) == ["work", "holidays", "on-call"]
    work = periods["work"]
    assert work.name == "work"
    assert work.excludes == (periods["holidays"],)
    assert work.includes == (periods["on-call"],)
    assert work.contains(utc(2026, 1, 5, 9, 30))  # 10:30 in Berlin, included again
    assert not work.contains(utc(2026, 1, 5, 11))
    assert work.contains(utc(2026, 1, 12, 11))


def test_shared_references_are_built_once() -> None:
    definitions = {
        "a": PeriodDefinition({}, includes=("c",)),
        "b": PeriodDefinition({}, excludes=("c",)),
        "c": PeriodDefinition({"monday": "09:00-10:00"}),
    }
    periods = resolve_periods(definitions)
    assert periods["a"].includes[0] is periods["c"] is periods["b"].excludes[0]


def test_lists_become_tuples() -> None:
    definition = PeriodDefinition({}, includes=["x"], excludes=["y"])  # type: ignore[arg-type]
    assert definition.includes == ("x",) and definition.excludes == ("y",)
    assert PeriodDefinition({}).timezone == "UTC"


def test_unknown_name() -> None:
    definitions = {"a": PeriodDefinition({}, excludes=("holidays",))}
    with pytest.raises(InvalidTimeRange) as caught:
        resolve_periods(definitions)
    assert caught.value.field == "excludes"
    assert str(caught.value) == (
        "excludes of time period 'a': invalid value 'holidays': "
        "expected the name of a defined time period"
    )


@pytest.mark.parametrize(
    ("definitions", "field", "cycle"),
    [
        ({"a": PeriodDefinition({}, includes=("a",))}, "includes", "a -> a"),
        (
            {
                "a": PeriodDefinition({}, includes=("b",)),
                "b": PeriodDefinition({}, excludes=("a",)),
            },
            "excludes",
            "a -> b -> a",
        ),
        (
            {
                "x": PeriodDefinition({}, includes=("a",)),
                "a": PeriodDefinition({}, includes=("b",)),
                "b": PeriodDefinition({}, includes=("c",)),
                "c": PeriodDefinition({}, excludes=("x", "b")),
            },
            "excludes",
            "x -> a -> b -> c -> x",
        ),
    ],
)
def test_cycles_are_named(definitions: dict[str, PeriodDefinition], field: str, cycle: str) -> None:
    with pytest.raises(InvalidTimeRange) as caught:
        resolve_periods(definitions)
    assert caught.value.field == field
    assert caught.value.value == cycle
    assert f"invalid value {cycle!r}: expected no reference cycle" in str(caught.value)


def chain(depth: int) -> dict[str, PeriodDefinition]:
    """p0 includes p1 includes ... p<depth>, which is Mondays 09:00-10:00."""
    definitions = {f"p{n}": PeriodDefinition({}, includes=(f"p{n + 1}",)) for n in range(depth)}
    definitions[f"p{depth}"] = PeriodDefinition({"monday": "09:00-10:00"})
    return definitions


def test_deep_chain_is_built_and_evaluated() -> None:
    periods = resolve_periods(chain(MAX_NESTING))
    assert len(periods) == MAX_NESTING + 1
    assert periods["p0"].contains(utc(2026, 1, 5, 9))
    assert periods["p0"].next_transition(utc(2026, 1, 5, 9)) == utc(2026, 1, 5, 10)


def test_too_deep_nesting_is_rejected() -> None:
    with pytest.raises(InvalidTimeRange, match=f"at most {MAX_NESTING} levels") as caught:
        resolve_periods(chain(MAX_NESTING + 1))
    assert caught.value.field == "includes"
    assert str(caught.value).startswith("time period 'p0': includes: invalid value 'p1'")


def test_long_cycle_is_found() -> None:
    depth = 3000
    definitions = {
        f"p{n}": PeriodDefinition({}, includes=(f"p{(n + 1) % depth}",)) for n in range(depth)
    }
    with pytest.raises(InvalidTimeRange) as caught:
        resolve_periods(definitions)
    assert caught.value.value.startswith("p0 -> p1 -> ")
    assert caught.value.value.endswith(f"p{depth - 1} -> p0")


def test_invalid_ranges_name_the_period() -> None:
    definitions = {"work": PeriodDefinition({"monday 0": ""})}
    with pytest.raises(InvalidTimeRange, match=r"^time period 'work': ranges key 'monday 0'"):
        resolve_periods(definitions)


def test_invalid_time_zone_names_the_period() -> None:
    definitions = {"work": PeriodDefinition({}, timezone="Mars/Base")}
    with pytest.raises(InvalidTimeRange, match=r"^time period 'work': timezone: invalid value"):
        resolve_periods(definitions)
