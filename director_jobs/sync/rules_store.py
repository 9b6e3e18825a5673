"""All SQL about the `sync_rules` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.engine import Connection, Engine

from director_jobs.db.engine import connected
from director_jobs.db.schema import sync_rules
from director_jobs.errors import NotFound
from director_jobs.sync.spec import RuleSpec, UpdatePolicy


def rule_from_row(row: Row[Any]) -> RuleSpec:
    """A RuleSpec from a `sync_rules` row."""
    m = row._mapping
    return RuleSpec(
        name=m["name"],
        source=m["source"],
        object_type=m["object_type"],
        properties=dict(m["properties"] or {}),
        filter=m["filter"],
        update_policy=UpdatePolicy(m["update_policy"]),
        purge=bool(m["purge"]),
        description=m["description"] or "",
        max_purge=m["max_purge"],
    )


def rule_columns(spec: RuleSpec) -> dict[str, Any]:
    """Column values for a definition."""
    return {
        "name": spec.name,
        "source": spec.source,
        "object_type": spec.object_type,
        "properties": dict(spec.properties),
        "filter": spec.filter,
        "update_policy": spec.update_policy.value,
        "purge": spec.purge,
        "description": spec.description,
        "max_purge": spec.max_purge,
    }


class RuleStore:
    """Reads and writes of sync rule definitions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def all(self, connection: Connection | None = None) -> list[RuleSpec]:
        """Every rule, by name."""
        query = select(sync_rules).order_by(sync_rules.c.name)
        with connected(self.engine, connection) as on:
            return [rule_from_row(r) for r in on.execute(query)]

    def get(self, name: str, connection: Connection | None = None) -> RuleSpec:
        """The rule `name`, or NotFound."""
        return rule_from_row(self._row(name, connection))

    def rule_id(self, connection: Connection, name: str) -> int:
        """The id of rule `name`, or NotFound."""
        return int(self._row(name, connection)._mapping["id"])

    def _row(self, name: str, connection: Connection | None) -> Row[Any]:
        """The table row of rule `name`."""
        query = select(sync_rules).where(sync_rules.c.name == name)
        with connected(self.engine, connection) as on:
            row = on.execute(query).first()
        if row is None:
            raise NotFound(f"sync: no sync rule named {name!r}")
        return row

    @staticmethod
    def insert(connection: Connection, spec: RuleSpec, now: datetime) -> None:
        """Insert a definition in the caller's transaction."""
        connection.execute(
            insert(sync_rules).values(**rule_columns(spec), created_at=now, updated_at=now)
        )

    @staticmethod
    def replace(connection: Connection, spec: RuleSpec, now: datetime) -> None:
        """Overwrite a definition in the caller's transaction."""
        connection.execute(
            update(sync_rules)
            .where(sync_rules.c.name == spec.name)
            .values(**rule_columns(spec), updated_at=now)
        )

    @staticmethod
    def delete_in(connection: Connection, name: str) -> None:
        """Delete a rule (its sync runs and their change history go with it)."""
        connection.execute(sync_rules.delete().where(sync_rules.c.name == name))
