"""All SQL about objects, sync runs and the history of object changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine

from director_jobs.db.schema import object_changes, objects, sync_rules, sync_runs
from director_jobs.errors import NotFound
from director_jobs.imports.checksum import canonical_json
from director_jobs.imports.store import INSERT_CHUNK, LOOKUP_CHUNK, JsonText, chunks, new_id
from director_jobs.sync.planner import Change, ChangeAction, Counts, StoredObject, count


@dataclass(frozen=True)
class ObjectRecord:
    """A stored monitoring object."""

    id: int
    object_type: str
    name: str
    properties: dict[str, Any]
    owner_rule: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ChangeRecord:
    """One entry of an object's history."""

    sync_run_id: int
    rule: str
    at: datetime
    object_type: str
    name: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class SyncRunInfo:
    """One stored sync run."""

    id: int
    rule: str
    import_run_id: int | None
    started_at: datetime
    finished_at: datetime
    counts: Counts


class ObjectStore:
    """Reads and writes of objects, sync_runs and object_changes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def load(connection: Connection, object_type: str) -> dict[str, StoredObject]:
        """Every object of a type, by name."""
        query = select(objects.c.id, objects.c.name, objects.c.properties, objects.c.owner_rule)
        rows = connection.execute(query.where(objects.c.object_type == object_type))
        return {name: StoredObject(i, name, props or {}, owner) for i, name, props, owner in rows}

    def list_objects(self, object_type: str | None = None) -> list[ObjectRecord]:
        """Objects by type and name, optionally of one type."""
        query = select(objects).order_by(objects.c.object_type, objects.c.name)
        if object_type is not None:
            query = query.where(objects.c.object_type == object_type)
        with self.engine.connect() as connection:
            return [ObjectRecord(**r._mapping) for r in connection.execute(query)]

    def get(self, object_type: str, name: str) -> ObjectRecord:
        """One object, or NotFound."""
        query = select(objects).where(objects.c.object_type == object_type, objects.c.name == name)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise NotFound(f"objects: no {object_type} named {name!r}")
        return ObjectRecord(**row._mapping)

    def history(self, object_type: str, name: str, limit: int = 20) -> list[ChangeRecord]:
        """The newest changes of one object, newest first."""
        query = (
            _changes_query()
            .where(object_changes.c.object_type == object_type, object_changes.c.name == name)
            .order_by(object_changes.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [ChangeRecord(*row) for row in connection.execute(query)]

    def changes_of_run(self, sync_run_id: int) -> list[ChangeRecord]:
        """Every change a sync run made, in the order made."""
        query = (
            _changes_query()
            .where(object_changes.c.sync_run_id == sync_run_id)
            .order_by(object_changes.c.id)
        )
        with self.engine.connect() as connection:
            return [ChangeRecord(*row) for row in connection.execute(query)]

    def sync_runs(self, rule: str, limit: int = 10) -> list[SyncRunInfo]:
        """The newest sync runs of a rule, newest first."""
        query = (
            select(
                sync_runs.c.id,
                sync_rules.c.name,
                sync_runs.c.import_run_id,
                sync_runs.c.started_at,
                sync_runs.c.finished_at,
                sync_runs.c.created,
                sync_runs.c.modified,
                sync_runs.c.deleted,
            )
            .join(sync_rules, sync_rules.c.id == sync_runs.c.rule_id)
            .where(sync_rules.c.name == rule)
            .order_by(sync_runs.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [
                SyncRunInfo(i, r, imp, s, f, Counts(c, m, d))
                for i, r, imp, s, f, c, m, d in connection.execute(query)
            ]

    @staticmethod
    def apply(
        connection: Connection,
        rule_id: int,
        rule_name: str,
        import_run_id: int,
        changes: Sequence[Change],
        started: datetime,
        now: datetime,
    ) -> int:
        """Write the changes and their history as one sync run; return the sync run's id."""
        counts = count(list(changes))
        sync_run_id = new_id(
            connection.execute(
                insert(sync_runs).values(
                    rule_id=rule_id,
                    import_run_id=import_run_id,
                    started_at=started,
                    finished_at=now,
                    created=counts.created,
                    modified=counts.modified,
                    deleted=counts.deleted,
                )
            )
        )
        # Each property tree is serialised once, for the object and for its history.
        before = [None if c.before is None else canonical_json(c.before) for c in changes]
        after = [None if c.after is None else canonical_json(c.after) for c in changes]
        created = [
            {"object_type": c.object_type, "name": c.name, "props": text}
            for c, text in zip(changes, after, strict=True)
            if c.action is ChangeAction.CREATED
        ]
        statement = insert(objects).values(
            object_type=bindparam("object_type"),
            name=bindparam("name"),
            properties=bindparam("props", type_=JsonText()),
            owner_rule=rule_name,
            created_at=now,
            updated_at=now,
        )
        for chunk in chunks(created, INSERT_CHUNK):
            connection.execute(statement, list(chunk))
        modified = [
            {"object_id": c.object_id, "props": text}
            for c, text in zip(changes, after, strict=True)
            if c.action is ChangeAction.MODIFIED
        ]
        changing = (
            update(objects)
            .where(objects.c.id == bindparam("object_id"))
            .values(properties=bindparam("props", type_=JsonText()), updated_at=now)
        )
        for chunk in chunks(modified, INSERT_CHUNK):
            connection.execute(changing, list(chunk))
        deleted = [c.object_id for c in changes if c.action is ChangeAction.DELETED]
        for chunk in chunks(deleted, LOOKUP_CHUNK):
            connection.execute(objects.delete().where(objects.c.id.in_(chunk)))
        history = [
            {
                "object_type": c.object_type,
                "name": c.name,
                "action": c.action.value,
                "old": old,
                "new": new,
            }
            for c, old, new in zip(changes, before, after, strict=True)
        ]
        recording = insert(object_changes).values(
            sync_run_id=sync_run_id,
            object_type=bindparam("object_type"),
            name=bindparam("name"),
            action=bindparam("action"),
            before=bindparam("old", type_=JsonText()),
            after=bindparam("new", type_=JsonText()),
        )
        for chunk in chunks(history, INSERT_CHUNK):
            connection.execute(recording, list(chunk))
        return sync_run_id


def _changes_query() -> Select[Any]:
    """Changes with their sync run's rule and end time, in ChangeRecord's field order."""
    return (
        select(
            object_changes.c.sync_run_id,
            sync_rules.c.name,
            sync_runs.c.finished_at,
            object_changes.c.object_type,
            object_changes.c.name,
            object_changes.c.action,
            object_changes.c.before,
            object_changes.c.after,
        )
        .join(sync_runs, sync_runs.c.id == object_changes.c.sync_run_id)
        .join(sync_rules, sync_rules.c.id == sync_runs.c.rule_id)
    )
