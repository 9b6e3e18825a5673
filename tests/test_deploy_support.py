"""Helpers of the config-deploy tests (no tests here): objects in the database, job contexts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert

from director_jobs.clock import Clock, SystemClock
from director_jobs.db.database import Database
from director_jobs.db.schema import deployments, objects
from director_jobs.execution.inprocess import Outcome, RunLogAdapter, execute_in_process
from director_jobs.job_types.base import JobContext
from director_jobs.job_types.config_deploy import ConfigDeployJob
from director_jobs.output import OutputTail

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

# A small, realistic set: what a sync of a CMDB produces.
SAMPLE: list[tuple[str, str, dict[str, Any]]] = [
    (
        "host",
        "web01",
        {
            "address": "192.0.2.10",
            "imports": ["generic-host"],
            "check_command": "hostalive",
            "display_name": "Web server 01",
            "groups": ["linux-servers"],
            "vars": {"os": "linux", "tags": ["a", "b"], "http_vhosts": {"shop": {"port": 443}}},
        },
    ),
    (
        "host",
        "db01",
        {
            "address": "192.0.2.20",
            "imports": ["generic-host"],
            "check_interval": "5m",
            "notes": None,
            "vars": {"os": "linux", "in": True, "disk wfree": "10%"},
        },
    ),
    ("hostgroup", "linux-servers", {"display_name": "Linux servers"}),
    (
        "service",
        "web01!http",
        {
            "imports": ["generic-service"],
            "check_command": "http",
            "groups": ["web"],
            "vars": {"http_uri": "/status", "http_vhost": "$host.name$"},
        },
    ),
    (
        "service",
        "db01-ping",
        {"host_name": "db01", "check_command": "ping4", "max_check_attempts": 3},
    ),
    ("servicegroup", "web", {"display_name": "Web services"}),
    (
        "user",
        "alice",
        {"imports": ["generic-user"], "email": "alice@example.org", "groups": ["admins"]},
    ),
    ("usergroup", "admins", {"display_name": "Administrators"}),
]


def put_objects(
    url: str, rows: list[tuple[str, str, dict[str, Any]]], *, replace: bool = True
) -> None:
    """Store `rows` (type, name, properties) in the objects table, as the sync would."""
    database = Database.open(url)
    try:
        with database.engine.begin() as connection:
            if replace:
                connection.execute(delete(objects))
            if rows:
                connection.execute(
                    insert(objects),
                    [
                        {
                            "object_type": t,
                            "name": n,
                            "properties": p,
                            "owner_rule": "test",
                            "created_at": NOW,
                            "updated_at": NOW,
                        }
                        for t, n, p in rows
                    ],
                )
    finally:
        database.dispose()


def deployment_rows(url: str) -> list[dict[str, Any]]:
    """Every deployments row, oldest first."""
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            rows = connection.execute(deployments.select().order_by(deployments.c.id))
            return [dict(row._mapping) for row in rows]
    finally:
        database.dispose()


def context(url: str, clock: Clock | None = None, name: str = "deploy") -> JobContext:
    """A job context on `url`, its log copied into the output tail."""
    output = OutputTail()
    logger = RunLogAdapter(logging.getLogger("test.deploy"), {"job_name": name}, output)
    return JobContext(
        job_name=name,
        run_id=None,
        logger=logger,
        clock=clock or SystemClock(),
        output=output,
        timeout=300,
        database_url=url,
    )


def run_deploy(
    url: str, params: dict[str, Any], clock: Clock | None = None
) -> tuple[Outcome, JobContext]:
    """Validate the parameters and run config-deploy once, like the runner does."""
    job = ConfigDeployJob()
    ctx = context(url, clock)
    return execute_in_process(job, job.validate(params), ctx), ctx
