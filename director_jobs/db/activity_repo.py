"""All SQL about the activity log: append entries, read them newest first, purge by age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine

from director_jobs.db.engine import connected
from director_jobs.db.schema import activity


@dataclass(frozen=True)
class ActivityEntry:
    """One change: who, when, what, and the definition before and after (None: none)."""

    at: datetime
    actor: str
    action: str
    kind: str
    name: str
    before: Any = None
    after: Any = None
    id: int | None = None


class ActivityRepository:
    """Appends to and reads the `activity` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, entries: list[ActivityEntry], connection: Connection | None = None) -> None:
        """Append entries (in the caller's transaction when one is given)."""
        if not entries:
            return
        rows = [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "kind": e.kind,
                "name": e.name,
                "before": e.before,
                "after": e.after,
            }
            for e in entries
        ]
        if connection is not None:
            connection.execute(insert(activity), rows)
            return
        with self.engine.begin() as own:
            own.execute(insert(activity), rows)

    def newest(
        self, *, since: datetime | None, before_id: int | None, limit: int
    ) -> list[ActivityEntry]:
        """Entries newest first, optionally since an instant and below an id (paging)."""
        query = select(activity).order_by(activity.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(activity.c.at >= since)
        if before_id is not None:
            query = query.where(activity.c.id < before_id)
        with connected(self.engine, None) as on:
            return [ActivityEntry(**row._mapping) for row in on.execute(query)]

    def triggers_of(self, job_name: str, since: datetime, until: datetime) -> list[ActivityEntry]:
        """The `triggered` entries of a job between two instants, oldest first."""
        query = (
            select(activity)
            .where(activity.c.at >= since, activity.c.at <= until)  # the index on `at`
            .where(activity.c.kind == "job", activity.c.name == job_name)
            .where(activity.c.action == "triggered")
            .order_by(activity.c.id)
        )
        with connected(self.engine, None) as on:
            return [ActivityEntry(**row._mapping) for row in on.execute(query)]

    def purge(self, connection: Connection, cutoff: datetime) -> int:
        """Delete entries older than `cutoff`; return how many."""
        return connection.execute(delete(activity).where(activity.c.at < cutoff)).rowcount
