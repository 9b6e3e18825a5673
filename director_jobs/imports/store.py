"""All SQL about import sources, import runs and their de-duplicated rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Insert,
    Row,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine
from sqlalchemy.types import TypeDecorator

from director_jobs.db.engine import connected
from director_jobs.db.schema import import_rows, import_run_rows, import_runs, import_sources
from director_jobs.errors import NotFound
from director_jobs.imports.reader import ImportData
from director_jobs.imports.spec import SourceSpec

# Checksums per `IN (…)` look-up and rows per multi-row INSERT: well under SQLite's
# 32,766 and PostgreSQL's 65,535 bound parameters, large enough to keep round trips few.
LOOKUP_CHUNK = 900
INSERT_CHUNK = 5000
ARRAY_CHUNK = 20_000  # checksums per PostgreSQL `= ANY(array)` look-up


@dataclass(frozen=True)
class ImportRunInfo:
    """One stored import run."""

    id: int
    source: str
    checksum: str
    row_count: int
    started_at: datetime
    finished_at: datetime


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def source_from_row(row: Row[Any]) -> SourceSpec:
    """A SourceSpec from an `import_sources` row."""
    m = row._mapping
    return SourceSpec(
        name=m["name"],
        provider=m["provider"],
        key_column=m["key_column"],
        settings=dict(m["settings"] or {}),
        modifiers=tuple(dict(x) for x in m["modifiers"] or ()),
        description=m["description"] or "",
        max_shrink=m["max_shrink"],
    )


def source_columns(spec: SourceSpec) -> dict[str, Any]:
    """Column values for a definition."""
    return {
        "name": spec.name,
        "provider": spec.provider,
        "key_column": spec.key_column,
        "settings": dict(spec.settings),
        "modifiers": [dict(m) for m in spec.modifiers],
        "description": spec.description,
        "max_shrink": spec.max_shrink,
    }


class JsonText(TypeDecorator[str]):
    """A JSON column value that is already JSON text: sent as it is (cast to JSON where needed)."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        """No processing: the text is the canonical JSON the checksum was taken of."""
        return None


class ImportStore:
    """Reads and writes of import_sources, import_runs, import_rows and import_run_rows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- definitions ------------------------------------------------------------------

    def sources(self, connection: Connection | None = None) -> list[SourceSpec]:
        """Every source, by name."""
        query = select(import_sources).order_by(import_sources.c.name)
        with connected(self.engine, connection) as on:
            return [source_from_row(r) for r in on.execute(query)]

    def get(self, name: str, connection: Connection | None = None) -> SourceSpec:
        """The source `name`, or NotFound."""
        query = select(import_sources).where(import_sources.c.name == name)
        with connected(self.engine, connection) as on:
            row = on.execute(query).first()
        if row is None:
            raise NotFound(f"imports: no import source named {name!r}")
        return source_from_row(row)

    @staticmethod
    def source_id(connection: Connection, name: str) -> int:
        """The id of source `name`, or NotFound."""
        found = connection.execute(
            select(import_sources.c.id).where(import_sources.c.name == name)
        ).scalar()
        if found is None:
            raise NotFound(f"imports: no import source named {name!r}")
        return int(found)

    @staticmethod
    def insert(connection: Connection, spec: SourceSpec, now: datetime) -> None:
        """Insert a definition in the caller's transaction."""
        connection.execute(
            insert(import_sources).values(**source_columns(spec), created_at=now, updated_at=now)
        )

    @staticmethod
    def replace(connection: Connection, spec: SourceSpec, now: datetime) -> None:
        """Overwrite a definition in the caller's transaction (its runs stay)."""
        connection.execute(
            update(import_sources)
            .where(import_sources.c.name == spec.name)
            .values(**source_columns(spec), updated_at=now)
        )

    @staticmethod
    def delete_in(connection: Connection, name: str) -> None:
        """Delete a source and (by cascade) its runs, in the caller's transaction."""
        source_id = ImportStore.source_id(connection, name)
        run_ids = select(import_runs.c.id).where(import_runs.c.source_id == source_id)
        # Explicitly, not by cascade: a SQLite connection without foreign_keys=ON leaves none.
        connection.execute(
            import_run_rows.delete().where(import_run_rows.c.import_run_id.in_(run_ids))
        )
        connection.execute(import_runs.delete().where(import_runs.c.source_id == source_id))
        connection.execute(import_sources.delete().where(import_sources.c.id == source_id))

    # -- runs -------------------------------------------------------------------------

    @staticmethod
    def latest_run(connection: Connection, source_id: int) -> ImportRunInfo | None:
        """The newest stored run of a source."""
        row = connection.execute(
            _runs_query()
            .where(import_runs.c.source_id == source_id)
            .order_by(import_runs.c.id.desc())
            .limit(1)
        ).first()
        return _run_info(row) if row is not None else None

    def runs(self, name: str, limit: int = 10) -> list[ImportRunInfo]:
        """The newest `limit` runs of source `name`, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                _runs_query()
                .where(import_sources.c.name == name)
                .order_by(import_runs.c.id.desc())
                .limit(limit)
            )
            return [_run_info(r) for r in rows]

    def latest_runs(self) -> dict[str, ImportRunInfo]:
        """The newest run of every source that has one, by source name."""
        newest = (
            select(func.max(import_runs.c.id)).group_by(import_runs.c.source_id).scalar_subquery()
        )
        with self.engine.connect() as connection:
            rows = connection.execute(_runs_query().where(import_runs.c.id.in_(newest)))
            return {info.source: info for info in map(_run_info, rows)}

    def store_run(
        self,
        connection: Connection,
        source_id: int,
        data: ImportData,
        started: datetime,
        finished: datetime,
    ) -> int:
        """Store a run and link its rows, inserting only rows not stored before; return its id."""
        run_id = new_id(
            connection.execute(
                insert(import_runs).values(
                    source_id=source_id,
                    checksum=data.checksum,
                    row_count=len(data.rows),
                    started_at=started,
                    finished_at=finished,
                )
            )
        )
        ids = self.row_ids(connection, list(set(data.checksums.values())))
        texts = {data.checksums[k]: text for k, text in data.texts.items()}
        missing = [{"checksum": c, "data": t} for c, t in texts.items() if c not in ids]
        ids.update(self._insert_rows(connection, missing))
        links = [
            {"import_run_id": run_id, "key": key, "row_id": ids[checksum]}
            for key, checksum in data.checksums.items()
        ]
        for chunk in chunks(links, INSERT_CHUNK):
            connection.execute(insert(import_run_rows), list(chunk))
        return run_id

    def _insert_rows(self, connection: Connection, rows: list[dict[str, str]]) -> dict[str, int]:
        """Insert rows (their JSON text as it was checksummed); return checksum → id."""
        statement = _insert_ignoring_duplicates(connection, import_rows).values(
            checksum=bindparam("checksum"),
            # The canonical text goes in as it is: no second serialisation of every row.
            data=bindparam("data", type_=JsonText()),
        )
        returning = connection.dialect.insert_executemany_returning
        if returning:
            statement = statement.returning(import_rows.c.checksum, import_rows.c.id)
        ids: dict[str, int] = {}
        for chunk in chunks(rows, INSERT_CHUNK):
            result = connection.execute(statement, list(chunk))
            if returning:
                ids.update({c: i for c, i in result})
        # Rows another import stored meanwhile were skipped (and not returned): look them up.
        ids.update(
            self.row_ids(connection, [r["checksum"] for r in rows if r["checksum"] not in ids])
        )
        return ids

    @staticmethod
    def row_ids(connection: Connection, checksums: Sequence[str]) -> dict[str, int]:
        """checksum → id of the stored rows among `checksums` (looked up in chunks)."""
        found: dict[str, int] = {}
        columns = select(import_rows.c.checksum, import_rows.c.id)
        if connection.dialect.name == "postgresql":
            # One array parameter: psycopg parses no SQL text with thousands of placeholders.
            for chunk in chunks(checksums, ARRAY_CHUNK):
                array = bindparam("checksums", list(chunk), type_=postgresql.ARRAY(String))
                query = columns.where(import_rows.c.checksum == any_(array))
                found.update({c: i for c, i in connection.execute(query)})
            return found
        for chunk in chunks(checksums, LOOKUP_CHUNK):
            query = columns.where(import_rows.c.checksum.in_(chunk))
            found.update({c: i for c, i in connection.execute(query)})
        return found

    @staticmethod
    def run_rows(connection: Connection, run_id: int) -> dict[str, dict[str, Any]]:
        """key → row of a stored run."""
        query = (
            select(import_run_rows.c.key, import_rows.c.data)
            .join(import_rows, import_rows.c.id == import_run_rows.c.row_id)
            .where(import_run_rows.c.import_run_id == run_id)
        )
        return {key: data for key, data in connection.execute(query)}


def _runs_query() -> Any:
    """SELECT of run columns with the source's name."""
    return select(
        import_runs.c.id,
        import_sources.c.name,
        import_runs.c.checksum,
        import_runs.c.row_count,
        import_runs.c.started_at,
        import_runs.c.finished_at,
    ).join(import_sources, import_sources.c.id == import_runs.c.source_id)


def _run_info(row: Row[Any]) -> ImportRunInfo:
    """An ImportRunInfo from a `_runs_query` row."""
    m = row._mapping
    return ImportRunInfo(
        id=m["id"],
        source=m["name"],
        checksum=m["checksum"],
        row_count=m["row_count"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
    )


def new_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT created."""
    key = result.inserted_primary_key
    assert key is not None  # a single-row INSERT into a table with an id
    return int(key[0])


def _insert_ignoring_duplicates(connection: Connection, table: Table) -> Insert:
    """INSERT that skips rows whose unique checksum another import stored meanwhile."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["checksum"])
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["checksum"])
    if dialect in ("mysql", "mariadb"):
        return insert(table).prefix_with("IGNORE")
    return insert(table)
