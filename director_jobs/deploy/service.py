"""One deployment attempt: render, decide (unchanged? grace period?), deploy, record."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from director_jobs.clock import Clock
from director_jobs.deploy.dsl import MacroPolicy, RenderError
from director_jobs.deploy.render import MonitoringObject, RenderedConfig, render
from director_jobs.deploy.store import DeploymentStore, DeployStatus
from director_jobs.deploy.target import DeployOutcome, Target


@dataclass(frozen=True)
class Policy:
    """When to deploy: only changes, not within `grace_period` s of the last one, or `force`."""

    deploy_when_changed: bool = True
    grace_period: float = 600.0
    force: bool = False


@dataclass(frozen=True)
class Attempt:
    """What happened: the recorded status, the deployment id, why, what was rendered, output."""

    status: DeployStatus
    deployment_id: int
    reason: str
    checksum: str
    files: list[str]
    output: str
    retry: bool = True  # a failed attempt: whether trying again may help


def skip_reason(
    store: DeploymentStore, target: str, checksum: str, clock: Clock, policy: Policy
) -> tuple[DeployStatus, str] | None:
    """(unchanged | skipped-grace, why) when this deployment should not happen, else None.

    Both compare with the last *successful* deployment to the same target: failed attempts
    changed nothing, and skipped ones must not restart the grace period.
    """
    if policy.force:
        return None
    last = store.last_deployed(target)
    if last is None:
        return None
    if policy.deploy_when_changed and last.checksum == checksum:
        return DeployStatus.UNCHANGED, (
            f"configuration unchanged since deployment {last.id} (checksum {checksum[:12]})"
        )
    age = (clock.now() - last.finished_at).total_seconds()
    if age < policy.grace_period:
        return DeployStatus.SKIPPED_GRACE, (
            f"changed, but deployment {last.id} was only {max(age, 0):.0f} s ago "
            f"(grace period {policy.grace_period:g} s); force=true deploys now"
        )
    return None


def run_deployment(
    objects: Iterable[MonitoringObject],
    target: Target,
    store: DeploymentStore,
    policy: Policy,
    clock: Clock,
    logger: logging.LoggerAdapter[logging.Logger],
    job_name: str | None,
    macros: MacroPolicy = MacroPolicy.UNBALANCED,
) -> Attempt:
    """Render `objects`, deploy them to `target` unless the policy says no; record it."""
    started, begin = clock.now(), clock.monotonic()

    def record(
        status: DeployStatus, config: RenderedConfig | None, outcome: DeployOutcome
    ) -> Attempt:
        checksum = config.checksum if config else ""
        files = config.paths if config else []
        deployment_id = store.record(
            job_name=job_name,
            target=target.name,
            checksum=checksum,
            status=status,
            files=files,
            output=outcome.output,
            stage=outcome.stage,
            started_at=started,
            finished_at=clock.now(),
            duration=clock.monotonic() - begin,
        )
        return Attempt(
            status, deployment_id, outcome.reason, checksum, files, outcome.output, outcome.retry
        )

    try:
        config = render(objects, target.prefix, macros)
    except RenderError as exc:
        refused = DeployOutcome(False, str(exc), str(exc), retry=False)  # the objects are wrong
        return record(DeployStatus.FAILED, None, refused)
    logger.info(
        "rendered %d objects into %d files (checksum %s)",
        config.object_count,
        len(config.files),
        config.checksum[:12],
    )
    skip = skip_reason(store, target.name, config.checksum, clock, policy)
    if skip is not None:
        status, reason = skip
        logger.info("%s: %s", status.value, reason)
        return record(status, config, DeployOutcome(True, "", reason))
    logger.info("deploying to %s", target.name)
    try:
        outcome = target.deploy(config)
    except Exception as exc:  # a stop request (JobCancelled) or a bug: recorded, passed on
        why = f"{type(exc).__name__}: {exc}"
        record(DeployStatus.FAILED, config, DeployOutcome(False, why, why))
        raise
    return record(DeployStatus.DEPLOYED if outcome.ok else DeployStatus.FAILED, config, outcome)
