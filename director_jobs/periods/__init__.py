"""Icinga 2 TimePeriod ranges: parser and evaluator (pure, no I/O).

``TimePeriod`` evaluates ``ranges``, ``includes``, ``excludes`` and ``prefer_includes`` in an IANA
time zone exactly as Icinga 2 2.15+ does, except where Icinga 2 is degenerate (see
``TimePeriod.warnings`` and docs/timeperiods.md).
"""

from director_jobs.periods.errors import InvalidTimeRange
from director_jobs.periods.period import TimePeriod, validate_ranges
from director_jobs.periods.resolve import PeriodDefinition, resolve_periods

__all__ = [
    "InvalidTimeRange",
    "PeriodDefinition",
    "TimePeriod",
    "resolve_periods",
    "validate_ranges",
]
