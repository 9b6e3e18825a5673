"""The one loop behind every `apply`: insert what is new, replace what changed, count the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, TypeVar


class Named(Protocol):
    """A definition with a unique name (a job, period, import source, sync rule)."""

    @property
    def name(self) -> str: ...


New = TypeVar("New", bound=Named)
Old = TypeVar("Old")


def upsert_by_name(
    specs: Iterable[New],
    existing: Mapping[str, Old],
    *,
    insert: Callable[[New], None],
    replace: Callable[[Old, New], None],
    unchanged: Callable[[Old, New], bool] | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """Write each spec against what is stored under its name; return (created, updated, same).

    `unchanged(old, new)` decides what needs no write; by default the two compare equal.
    """
    created: list[str] = []
    updated: list[str] = []
    same: list[str] = []
    for spec in specs:
        old = existing.get(spec.name)
        if old is None:
            insert(spec)
            created.append(spec.name)
        elif not (unchanged(old, spec) if unchanged is not None else old == spec):
            replace(old, spec)
            updated.append(spec.name)
        else:
            same.append(spec.name)
    return created, updated, same
