"""The operations on import sources: define (apply), preview, check and import."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from director_jobs.clock import Clock
from director_jobs.db.schema import sync_rules
from director_jobs.errors import InvalidInput
from director_jobs.imports.errors import SourceFailed
from director_jobs.imports.reader import CompiledSource, compile_source, preview_rows, read_source
from director_jobs.imports.spec import DEFAULT_MAX_SHRINK, SourceSpec
from director_jobs.imports.store import ImportStore
from director_jobs.upsert import upsert_by_name
from director_jobs.validation import share_text, validate_name


class ImportStatus(enum.StrEnum):
    """What an import did."""

    STORED = "stored"  # the data changed and a new import run was stored
    CHANGED = "changed"  # the data changed; a check only, nothing stored
    UNCHANGED = "unchanged"  # same checksum as the newest stored run: nothing stored


@dataclass(frozen=True)
class ImportOutcome:
    """The result of importing (or checking) one source."""

    source: str
    status: ImportStatus
    rows: int
    checksum: str
    run_id: int | None
    seconds: float

    def summary(self) -> str:
        """One line for the run's output, e.g. `cmdb: 50 rows, stored as import run 3 (0.12 s)`."""
        what = {
            ImportStatus.STORED: f"stored as import run {self.run_id}",
            ImportStatus.CHANGED: "changed since the last import (not stored: run_import=false)",
            ImportStatus.UNCHANGED: "unchanged, nothing stored",
        }[self.status]
        return f"import source {self.source}: {self.rows} rows, {what} ({self.seconds:.2f} s)"


def check_shrink(spec: SourceSpec, before: int, now: int) -> None:
    """Refuse an import that lost more rows than its source allows (SourceFailed says how).

    Default: more than half of them, or all. A CSV with just its header line, or a JSON
    `[]`, is a valid file; stored, it would let a purging sync delete every object.
    """
    limit = DEFAULT_MAX_SHRINK if spec.max_shrink is None else spec.max_shrink
    if before == 0 or now >= before or limit >= 1:
        return
    lost = (before - now) / before
    if now > 0 and lost <= limit:
        return
    allowed = "none may go" if now == 0 else f"at most {share_text(limit)} may go"
    raise SourceFailed(
        spec.name,
        f"refused: the rows would shrink from {before} to {now} ({share_text(lost)} fewer, "
        f"{allowed}); nothing was stored. If that is right, set allow_shrink = true (or a "
        f'share such as "90%") in [imports.{spec.name}], or run the import job once with '
        "`director jobs run NAME --force`",
    )


def validate_source(spec: SourceSpec) -> CompiledSource:
    """Check a definition fully (name, provider settings, modifiers); return it built."""
    validate_name(spec.name, "imports")
    return compile_source(spec)


class ImportService:
    """Import sources in the database: definitions and runs."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.store = ImportStore(engine)

    # -- definitions ------------------------------------------------------------------

    def validate(self, spec: SourceSpec) -> CompiledSource:
        """Check a definition fully (name, provider settings, modifiers); return it built."""
        return validate_source(spec)

    def apply_in(
        self, connection: Connection, specs: Sequence[SourceSpec], now: datetime
    ) -> tuple[list[str], list[str], list[str]]:
        """Create or update `specs` inside a transaction; return (created, updated, unchanged)."""
        for spec in specs:
            self.validate(spec)
        return upsert_by_name(
            specs,
            {s.name: s for s in self.store.sources(connection)},
            insert=lambda spec: self.store.insert(connection, spec, now),
            replace=lambda _old, spec: self.store.replace(connection, spec, now),
        )

    def prune_in(self, connection: Connection, keep: set[str]) -> list[str]:
        """Delete sources not in `keep` (and their runs); refuse one that a sync rule uses."""
        doomed = [s.name for s in self.store.sources(connection) if s.name not in keep]
        for name in doomed:
            users = list(
                connection.execute(
                    select(sync_rules.c.name).where(sync_rules.c.source == name)
                ).scalars()
            )
            if users:
                raise InvalidInput(
                    "imports", name, f"cannot prune: sync rules {', '.join(sorted(users))} use it"
                )
            self.store.delete_in(connection, name)
        return doomed

    def names(self) -> list[str]:
        """Names of every source."""
        return [s.name for s in self.store.sources()]

    # -- reading and importing -----------------------------------------------------------

    def preview(self, name: str, limit: int) -> list[dict[str, Any]]:
        """The first `limit` rows after the modifiers; nothing is stored."""
        return preview_rows(self.validate(self.store.get(name)), limit)

    def run(
        self,
        name: str,
        *,
        store: bool = True,
        force: bool = False,
        on_rows: Callable[[int], None] | None = None,
    ) -> ImportOutcome:
        """Read source `name`; store a run when the data differs from the newest stored one.

        A failing provider raises SourceFailed before anything is written, so a failed
        import never leaves an empty run behind that a sync would read as "all gone"; nor
        does one that shrank past the source's limit (see `check_shrink`) unless `force`.
        """
        source = self.validate(self.store.get(name))
        started = self.clock.now()
        began = self.clock.monotonic()
        data = read_source(source, on_rows)
        with self.engine.begin() as connection:
            source_id = self.store.source_id(connection, name)
            latest = self.store.latest_run(connection, source_id)
            run_id = None
            if latest is not None and latest.checksum == data.checksum:
                status = ImportStatus.UNCHANGED
            else:
                if latest is not None and not force:
                    check_shrink(source.spec, latest.row_count, len(data.rows))
                if store:
                    run_id = self.store.store_run(
                        connection, source_id, data, started, self.clock.now()
                    )
                    status = ImportStatus.STORED
                else:
                    status = ImportStatus.CHANGED
        return ImportOutcome(
            name, status, len(data.rows), data.checksum, run_id, self.clock.monotonic() - began
        )
