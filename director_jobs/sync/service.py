"""The operations on sync rules: define (apply), plan (preview) and run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from director_jobs.clock import Clock
from director_jobs.db.schema import import_sources
from director_jobs.errors import InvalidInput, NotFound
from director_jobs.imports.store import ImportStore
from director_jobs.sync.errors import SyncFailed
from director_jobs.sync.objects_store import ObjectStore
from director_jobs.sync.planner import Change, Counts, count, plan_changes
from director_jobs.sync.rule import CompiledRule, compile_rule
from director_jobs.sync.rules_store import RuleStore
from director_jobs.sync.spec import DEFAULT_MAX_PURGE, RuleSpec
from director_jobs.upsert import upsert_by_name
from director_jobs.validation import share_text


@dataclass(frozen=True)
class SyncPlan:
    """What a rule would change, based on which import run."""

    rule: str
    import_run_id: int
    changes: list[Change]
    owned: int = 0  # objects the rule owned before: what a purge's share is taken of

    @property
    def counts(self) -> Counts:
        """Changes counted by action."""
        return count(self.changes)


@dataclass(frozen=True)
class SyncOutcome:
    """The result of running (or only planning) one rule."""

    plan: SyncPlan
    applied: bool
    sync_run_id: int | None
    seconds: float

    def summary(self) -> str:
        """One line for the run's output."""
        counts = self.plan.counts.text()
        if self.applied:
            what = f"applied as sync run {self.sync_run_id}"
        else:
            what = "not applied: apply_changes=false"
        return (
            f"sync rule {self.plan.rule}: {counts} from import run {self.plan.import_run_id} "
            f"({what}, {self.seconds:.2f} s)"
        )


class SyncService:
    """Sync rules in the database: definitions, plans and runs."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.rules = RuleStore(engine)
        self.objects = ObjectStore(engine)

    # -- definitions ------------------------------------------------------------------

    def validate(self, spec: RuleSpec) -> CompiledRule:
        """Check a definition fully (fields, mapping, filter); return it compiled."""
        return compile_rule(spec)

    def apply_in(
        self, connection: Connection, specs: Sequence[RuleSpec], now: datetime
    ) -> tuple[list[str], list[str], list[str]]:
        """Create or update `specs` in a transaction (their sources must exist in it by then)."""
        sources = set(connection.execute(select(import_sources.c.name)).scalars())
        for spec in specs:
            self.validate(spec)
            if spec.source not in sources:
                raise InvalidInput(
                    f"sync_rules.{spec.name}.source",
                    spec.source,
                    "no import source of that name; define it under [imports.NAME]",
                )
        return upsert_by_name(
            specs,
            {r.name: r for r in self.rules.all(connection)},
            insert=lambda spec: self.rules.insert(connection, spec, now),
            replace=lambda _old, spec: self.rules.replace(connection, spec, now),
        )

    def prune_in(self, connection: Connection, keep: set[str]) -> list[str]:
        """Delete rules not in `keep`; the objects they created stay (without purge)."""
        doomed = [r.name for r in self.rules.all(connection) if r.name not in keep]
        for name in doomed:
            self.rules.delete_in(connection, name)
        return doomed

    def names(self) -> list[str]:
        """Names of every rule."""
        return [r.name for r in self.rules.all()]

    # -- planning and running --------------------------------------------------------------

    def plan(self, name: str) -> SyncPlan:
        """What rule `name` would change now; nothing is written."""
        with self.engine.connect() as connection:
            return self._plan(connection, self.validate(self.rules.get(name, connection)))

    def run(self, name: str, *, apply: bool = True, force: bool = False) -> SyncOutcome:
        """Plan rule `name` and, when `apply`, write the changes as one sync run (atomically).

        A run that would delete more of the rule's objects than it allows is refused
        (`check_purge`), also when only planning, unless `force`.
        """
        began = self.clock.monotonic()
        started = self.clock.now()
        if not apply:
            plan = self.plan(name)
            if not force:
                check_purge(self.validate(self.rules.get(name)).spec, plan)
            return SyncOutcome(plan, False, None, self.clock.monotonic() - began)
        with self.engine.begin() as connection:
            rule = self.validate(self.rules.get(name, connection))
            plan = self._plan(connection, rule)
            if not force:
                check_purge(rule.spec, plan)
            sync_run_id = ObjectStore.apply(
                connection,
                self.rules.rule_id(connection, name),
                name,
                plan.import_run_id,
                plan.changes,
                started,
                self.clock.now(),
            )
        return SyncOutcome(plan, True, sync_run_id, self.clock.monotonic() - began)

    def _plan(self, connection: Connection, rule: CompiledRule) -> SyncPlan:
        """Plan against the source's newest *stored* import run.

        A failed import stores nothing, so the rows here are always a complete,
        successful import: a broken source can never look like "every host vanished".
        """
        spec = rule.spec
        try:
            source_id = ImportStore.source_id(connection, spec.source)
        except NotFound:
            raise SyncFailed(spec.name, f"import source {spec.source!r} does not exist") from None
        latest = ImportStore.latest_run(connection, source_id)
        if latest is None:
            raise SyncFailed(
                spec.name,
                f"import source {spec.source!r} has never imported: run its import job first",
            )
        rows = ImportStore.run_rows(connection, latest.id)
        existing = ObjectStore.load(connection, spec.object_type)
        owned = sum(1 for stored in existing.values() if stored.owner_rule == spec.name)
        return SyncPlan(spec.name, latest.id, plan_changes(rule, rows, existing), owned)


def check_purge(spec: RuleSpec, plan: SyncPlan) -> None:
    """Refuse a run that would delete more than the rule's share of its objects (20 %).

    What gets purged is what vanished from the source; when most of it vanishes at once,
    the source is more likely broken than the hosts gone.
    """
    limit = DEFAULT_MAX_PURGE if spec.max_purge is None else spec.max_purge
    deleted = plan.counts.deleted
    if deleted == 0 or plan.owned == 0 or deleted / plan.owned <= limit:
        return
    raise SyncFailed(
        spec.name,
        f"refused: it would delete {deleted} of the {plan.owned} objects it made "
        f"({share_text(deleted / plan.owned)}, more than max_purge {share_text(limit)}); "
        f'nothing was changed. If that is right, set max_purge = "100%" in '
        f"[sync_rules.{spec.name}], or run the sync job once with "
        "`director jobs run NAME --force`",
    )
