"""Deployment records and the objects to render, on the tables of db/schema.py."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, select

from director_jobs.db.schema import deployments, objects
from director_jobs.deploy.render import MonitoringObject
from director_jobs.errors import NotFound
from director_jobs.model import OUTPUT_TAIL_BYTES
from director_jobs.validation import storable


class DeployStatus(enum.StrEnum):
    """Outcome of one deployment attempt."""

    DEPLOYED = "deployed"
    FAILED = "failed"
    UNCHANGED = "unchanged"
    SKIPPED_GRACE = "skipped-grace"


@dataclass(frozen=True)
class Deployment:
    """One row of the deployments table."""

    id: int
    job_name: str | None
    target: str
    checksum: str
    status: DeployStatus
    files: list[str]
    output: str
    stage: str | None
    started_at: datetime
    finished_at: datetime
    duration: float


def clip(text: str, limit: int = OUTPUT_TAIL_BYTES) -> str:
    """At most ~`limit` UTF-8 bytes: the head (where icinga2 lists errors) and the tail."""
    text = storable(text)  # a lone surrogate would not even encode
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    head = data[: limit * 3 // 4].decode("utf-8", "ignore")
    tail = data[-(limit // 4) :].decode("utf-8", "ignore")
    return f"{head}\n[… {len(data) - limit} bytes left out …]\n{tail}"


def load_objects(engine: Engine) -> list[MonitoringObject]:
    """Every monitoring object (the renderer sorts them)."""
    query = select(objects.c.object_type, objects.c.name, objects.c.properties)
    with engine.connect() as connection:
        return [MonitoringObject(t, n, p or {}) for t, n, p in connection.execute(query)]


class DeploymentStore:
    """Writes and reads deployment records."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        *,
        job_name: str | None,
        target: str,
        checksum: str,
        status: DeployStatus,
        files: list[str],
        output: str,
        stage: str | None,
        started_at: datetime,
        finished_at: datetime,
        duration: float,
    ) -> int:
        """Store one attempt; returns its id."""
        values: dict[str, Any] = {
            "job_name": job_name,
            "target": target,
            "checksum": checksum,
            "status": status.value,
            "files": files,
            "output": clip(output),
            "stage": stage,
            "started_at": started_at,
            "finished_at": finished_at,
            "duration_seconds": duration,
        }
        with self.engine.begin() as connection:
            key = connection.execute(insert(deployments).values(values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def last_deployed(self, target: str) -> Deployment | None:
        """The newest successful deployment to `target`."""
        query = (
            select(deployments)
            .where(deployments.c.target == target, deployments.c.status == DeployStatus.DEPLOYED)
            .order_by(deployments.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _deployment(row)

    def recent(self, limit: int) -> list[Deployment]:
        """The newest `limit` deployments, newest first."""
        query = select(deployments).order_by(deployments.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            return [_deployment(row) for row in connection.execute(query)]

    def get(self, deployment_id: int) -> Deployment:
        """One deployment; NotFound names the id."""
        query = select(deployments).where(deployments.c.id == deployment_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise NotFound(f"deployment {deployment_id}: no such deployment")
        return _deployment(row)


def _deployment(row: Row[Any]) -> Deployment:
    """A Deployment from a table row."""
    return Deployment(
        id=row.id,
        job_name=row.job_name,
        target=row.target,
        checksum=row.checksum,
        status=DeployStatus(row.status),
        files=list(row.files or []),
        output=row.output or "",
        stage=row.stage,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration=row.duration_seconds,
    )
