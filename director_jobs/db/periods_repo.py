"""Time-period definitions: reads and writes of the `time_periods` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from director_jobs.db.engine import connected
from director_jobs.db.schema import jobs, time_periods
from director_jobs.errors import AlreadyExists, NotFound
from director_jobs.model import PeriodSpec


def period_from_row(row: Row[Any]) -> PeriodSpec:
    """Build a PeriodSpec from a `time_periods` row."""
    m = row._mapping
    return PeriodSpec(
        name=m["name"],
        ranges=dict(m["ranges"] or {}),
        includes=tuple(m["includes"] or ()),
        excludes=tuple(m["excludes"] or ()),
        prefer_includes=bool(m["prefer_includes"]),
        timezone=m["timezone"],
        display_name=m["display_name"],
    )


def period_columns(spec: PeriodSpec) -> dict[str, Any]:
    """Column values for a definition."""
    return {
        "name": spec.name,
        "display_name": spec.display_name,
        "ranges": dict(spec.ranges),
        "includes": list(spec.includes),
        "excludes": list(spec.excludes),
        "prefer_includes": spec.prefer_includes,
        "timezone": spec.timezone,
    }


class PeriodRepository:
    """All SQL about the `time_periods` table lives here."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def all(self, connection: Connection | None = None) -> list[PeriodSpec]:
        """Every period, by name."""
        query = select(time_periods).order_by(time_periods.c.name)
        with connected(self.engine, connection) as on:
            return [period_from_row(r) for r in on.execute(query)]

    def get(self, name: str) -> PeriodSpec:
        """The period `name`, or NotFound."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(time_periods).where(time_periods.c.name == name)
            ).first()
        if row is None:
            raise NotFound(f"timeperiod: no time period named {name!r}")
        return period_from_row(row)

    @staticmethod
    def insert(connection: Connection, spec: PeriodSpec, now: datetime) -> None:
        """Insert a period in the caller's transaction."""
        try:
            connection.execute(
                insert(time_periods).values(**period_columns(spec), created_at=now, updated_at=now)
            )
        except IntegrityError:
            raise AlreadyExists(f"name: a time period named {spec.name!r} exists already") from None

    @staticmethod
    def replace(connection: Connection, spec: PeriodSpec, now: datetime) -> None:
        """Overwrite a period's definition in the caller's transaction."""
        connection.execute(
            update(time_periods)
            .where(time_periods.c.name == spec.name)
            .values(**period_columns(spec), updated_at=now)
        )

    @staticmethod
    def delete_in(connection: Connection, name: str) -> None:
        """Delete a period row in the caller's transaction."""
        connection.execute(time_periods.delete().where(time_periods.c.name == name))

    @staticmethod
    def users(connection: Connection, name: str) -> list[str]:
        """Names of the jobs that reference period `name`."""
        query = select(jobs.c.name).where(jobs.c.timeperiod == name).order_by(jobs.c.name)
        return list(connection.execute(query).scalars())
