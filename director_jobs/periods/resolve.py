"""Build TimePeriod objects from stored definitions that refer to each other by name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from director_jobs.periods.errors import InvalidTimeRange
from director_jobs.periods.period import TimePeriod

__all__ = ["PeriodDefinition", "resolve_periods"]


@dataclass(frozen=True, slots=True)
class PeriodDefinition:
    """A time period as stored: its ranges, and other periods by name."""

    ranges: Mapping[str, str] = field(default_factory=dict)
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    prefer_includes: bool = True
    timezone: str = "UTC"
    display_name: str | None = None

    def __post_init__(self) -> None:
        # Lists from JSON or the database become tuples, so the definition stays immutable.
        object.__setattr__(self, "includes", tuple(self.includes))
        object.__setattr__(self, "excludes", tuple(self.excludes))

    def references(self) -> Iterator[tuple[str, str]]:
        """``(field, name)`` of every included, then every excluded period."""
        yield from (("includes", name) for name in self.includes)
        yield from (("excludes", name) for name in self.excludes)


def resolve_periods(definitions: Mapping[str, PeriodDefinition]) -> dict[str, TimePeriod]:
    """Build every defined period, each included or excluded period before its users.

    Raises InvalidTimeRange (field ``includes`` or ``excludes``) for a name that is not
    defined or for a reference cycle, named in full: ``a -> b -> a``. Iterative, so neither
    deep chains nor cycles can exhaust the stack or loop.
    """
    built: dict[str, TimePeriod] = {}
    for root in definitions:
        if root in built:
            continue
        path = [root]
        on_path = {root}
        stack = [definitions[root].references()]
        while stack:
            for field_name, ref in stack[-1]:
                if ref in built:
                    continue
                where = f"{field_name} of time period {path[-1]!r}"
                if ref not in definitions:
                    expected = "expected the name of a defined time period"
                    raise InvalidTimeRange(
                        field=field_name, value=ref, expected=expected, where=where
                    )
                if ref in on_path:
                    cycle = " -> ".join([*path[path.index(ref) :], ref])
                    expected = (
                        "expected no reference cycle: a period cannot include or exclude itself"
                    )
                    raise InvalidTimeRange(
                        field=field_name, value=cycle, expected=expected, where=where
                    )
                path.append(ref)
                on_path.add(ref)
                stack.append(definitions[ref].references())
                break
            else:
                stack.pop()
                name = path.pop()
                on_path.discard(name)
                built[name] = _build(name, definitions[name], built)
    return {name: built[name] for name in definitions}


def _build(name: str, definition: PeriodDefinition, built: Mapping[str, TimePeriod]) -> TimePeriod:
    """One period whose references are all built already."""
    return TimePeriod(
        definition.ranges,
        includes=[built[ref] for ref in definition.includes],
        excludes=[built[ref] for ref in definition.excludes],
        prefer_includes=definition.prefer_includes,
        timezone=definition.timezone,
        name=name,
    )
