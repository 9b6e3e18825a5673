"""The activity log: what the services record about each change, and how it is read.

Every change to a definition (job, time period, import source, sync rule) or token, and
every manual trigger and stop, becomes one entry: when, who (`cli:USER`, `apply:FILE`,
`api:TOKEN`), what, and the definition before and after with secrets masked.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from director_jobs.clock import Clock
from director_jobs.db.activity_repo import ActivityEntry
from director_jobs.db.database import Database
from director_jobs.imports.store import ImportStore
from director_jobs.secrets import masked
from director_jobs.services.paging import check_limit, cursor_id
from director_jobs.sync.rules_store import RuleStore

# Entries per page at most (`director activity --limit`, GET /activity?limit=).
MAX_PAGE = 1000

Definitions = dict[tuple[str, str], Any]  # (kind, name) -> definition


def unix_actor() -> str:
    """`cli:USER` for the user running this process (`cli:root(sudo:alice)` under sudo)."""
    user = pwd.getpwuid(os.getuid()).pw_name
    invoker = os.environ.get("SUDO_USER")
    return f"cli:{user}(sudo:{invoker})" if invoker and os.getuid() == 0 else f"cli:{user}"


def definition(spec: Any) -> Any:
    """A definition (a spec dataclass) as stored in the log: plain JSON, secrets masked."""
    is_instance = dataclasses.is_dataclass(spec) and not isinstance(spec, type)
    plain = dataclasses.asdict(spec) if is_instance else spec
    return masked(json.loads(json.dumps(plain, default=str)))


def snapshot(database: Database, connection: Connection) -> Definitions:
    """Every definition now, by kind and name (what `apply` compares before and after)."""
    found: Definitions = {}
    for job in database.jobs.all(connection):
        found["job", job.name] = definition(job.spec)
    for period in database.periods.all(connection):
        found["timeperiod", period.name] = definition(period)
    for source in ImportStore(database.engine).sources(connection):
        found["import_source", source.name] = definition(source)
    for rule in RuleStore(database.engine).all(connection):
        found["sync_rule", rule.name] = definition(rule)
    return found


class ActivityLog:
    """Records entries for one actor; reads pages of them."""

    def __init__(self, database: Database, clock: Clock, actor: str) -> None:
        self.database = database
        self.clock = clock
        self.actor = actor

    def note(
        self,
        action: str,
        kind: str,
        name: str,
        *,
        before: Any = None,
        after: Any = None,
        connection: Connection | None = None,
    ) -> None:
        """Record one change (in the caller's transaction when given); secrets masked."""
        entry = ActivityEntry(
            self.clock.now(), self.actor, action, kind, name, masked(before), masked(after)
        )
        self.database.activity.add([entry], connection)

    def differences(self, before: Definitions, after: Definitions, connection: Connection) -> int:
        """Record what changed between two snapshots; return how many entries."""
        entries = []
        now = self.clock.now()
        for kind, name in sorted(before.keys() | after.keys()):
            old, new = before.get((kind, name)), after.get((kind, name))
            if old == new:
                continue
            action = "created" if old is None else "deleted" if new is None else "updated"
            entries.append(ActivityEntry(now, self.actor, action, kind, name, old, new))
        self.database.activity.add(entries, connection)
        return len(entries)

    def page(
        self, since: datetime | None, limit: int, cursor: str | None
    ) -> tuple[list[ActivityEntry], str | None]:
        """Entries newest first, and the cursor of the next page (None on the last)."""
        check_limit(limit, MAX_PAGE)
        before_id = cursor_id(cursor)
        entries = self.database.activity.newest(since=since, before_id=before_id, limit=limit + 1)
        more = len(entries) > limit
        entries = entries[:limit]
        return entries, (str(entries[-1].id) if more and entries else None)
