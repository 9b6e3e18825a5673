"""The one error of this package: a time period definition that cannot be evaluated."""

from __future__ import annotations

from director_jobs.errors import DirectorJobsError, InvalidInput

__all__ = ["InvalidTimeRange"]


class InvalidTimeRange(InvalidInput):
    """A ranges key or value, time zone or include/exclude reference is invalid.

    It is an ``InvalidInput`` (so a ``DirectorJobsError`` and a ``ValueError``) whose message
    names the field, the key, the offending text, its position and what was expected, e.g.
    ``ranges key 'monday 0': invalid value '0' at position 7: expected a day number 1-5 or -1..-5``.
    """

    field: str
    key: str | None
    value: str
    position: int | None
    expected: str
    where: str

    def __init__(
        self,
        *,
        field: str,
        value: str,
        expected: str,
        key: str | None = None,
        position: int | None = None,
        where: str | None = None,
    ) -> None:
        self.field = field
        self.key = key
        self.value = value
        self.position = position
        self.expected = expected
        if where is None:
            where = field if key is None else f"{field} key {key!r}"
        self.where = where
        at = "" if position is None else f" at position {position}"
        # Skip InvalidInput.__init__ (its message has no position) but keep its attributes.
        DirectorJobsError.__init__(self, f"{where}: invalid value {value!r}{at}: {expected}")

    def in_period(self, name: str) -> InvalidTimeRange:
        """The same error with the time period's name in front of the message."""
        return InvalidTimeRange(
            field=self.field,
            value=self.value,
            expected=self.expected,
            key=self.key,
            position=self.position,
            where=f"time period {name!r}: {self.where}",
        )

    @classmethod
    def in_key(cls, key: str, value: str, position: int, expected: str) -> InvalidTimeRange:
        """An error inside a ranges key; ``position`` counts characters of the key from 0."""
        return cls(field="ranges", key=key, value=value, position=position, expected=expected)

    @classmethod
    def in_value(
        cls, key: str, text: str, value: str, position: int, expected: str
    ) -> InvalidTimeRange:
        """An error inside the time ranges ``text`` of ``key``; ``position`` counts in ``text``."""
        where = f"ranges key {key!r} with time ranges {text!r}"
        return cls(
            field="ranges",
            key=key,
            value=value,
            position=position,
            expected=expected,
            where=where,
        )
