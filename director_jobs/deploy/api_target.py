"""The `icinga2-api` target: a config package stage, validated and activated by the daemon.

Icinga Director's way: make sure the package exists (POST on an existing one answers
500), remove its inactive stages, upload the files as a new stage, wait until the stage
lists `status` and `startup.log`, read them. Status 0: the daemon made the stage active and
reloads. Status 1: the stage is invalid and the previously active stage stays.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from director_jobs.clock import Clock
from director_jobs.deploy.api_client import ApiError, IcingaApi
from director_jobs.deploy.render import RenderedConfig, zone_prefix
from director_jobs.deploy.target import DeployOutcome
from director_jobs.job_types.base import JobCancelled

# Between two looks at the stage: validation takes 0.1-0.5 s for small configurations.
POLL_SECONDS = 0.25
_DONE = frozenset({"status", "startup.log"})
# How long an unreachable API is waited for (a reload takes 1-3 s for small configurations).
UNREACHABLE_SECONDS = 20.0
T = TypeVar("T")


@dataclass
class ApiTarget:
    """Deploys through the Icinga 2 REST API into `package`, files under zones.d/<zone>/."""

    api: IcingaApi
    url: str
    package: str
    zone: str
    clock: Clock
    logger: logging.LoggerAdapter[logging.Logger]
    timeout: float
    cancel: threading.Event = field(default_factory=threading.Event)
    heartbeat: Callable[[], None] = lambda: None

    @property
    def name(self) -> str:
        """`icinga2-api:https://host:5665/package`."""
        return f"icinga2-api:{self.url.rstrip('/')}/{self.package}"

    @property
    def prefix(self) -> str:
        """Files go to the zone's folder of the package."""
        return zone_prefix(self.zone)

    def deploy(self, config: RenderedConfig) -> DeployOutcome:
        """Upload a stage and report what the daemon made of it."""
        stage: str | None = None
        try:
            active = self._prepare_package()
            # Right after another deployment the daemon refuses uploads (423) until it reloaded.
            stage = uploaded = self._retrying(
                lambda: self.api.upload_stage(self.package, config.files)
            )
            self.logger.info("uploaded stage %s of package %s", stage, self.package)
            if not self._wait_for_status(uploaded):
                return DeployOutcome(
                    False,
                    "",
                    f"stage {stage} reported no status within {self.timeout:g} s",
                    stage,
                )
            status = self._retrying(lambda: self.api.read_file(self.package, uploaded, "status"))
            log = self._retrying(lambda: self.api.read_file(self.package, uploaded, "startup.log"))
        except ApiError as exc:  # unreachable, reloading or a server error: may pass later
            retry = exc.transient or (exc.status or 0) >= 500
            return DeployOutcome(False, "", f"icinga2 API: {exc}", stage, retry=retry)
        if status.strip() == "0":
            return DeployOutcome(True, log, f"stage {stage} is active; icinga2 reloads", stage)
        kept = f"stage {active} stays active" if active else "no stage was active before"
        return DeployOutcome(
            False,
            log,
            f"icinga2 rejected stage {stage} (status {status.strip()}); {kept}",
            stage,
            retry=False,  # the configuration is wrong: retrying cannot help
        )

    def _prepare_package(self) -> str | None:
        """Create the package when missing, drop its inactive stages; the active stage."""
        packages = self._retrying(self.api.packages)
        package = packages.get(self.package)
        if package is None:
            self.api.create_package(self.package)
            self.logger.info("created config package %s", self.package)
            return None
        for stage in package.stages:
            if stage != package.active_stage:
                try:
                    self.api.delete_stage(self.package, stage)
                except ApiError as exc:  # only disk space is at stake
                    self.logger.warning("could not remove old stage %s: %s", stage, exc)
        return package.active_stage

    def _wait_for_status(self, stage: str) -> bool:
        """Poll the stage until it lists `status` and `startup.log`; False on timeout."""
        deadline = self.clock.monotonic() + self.timeout
        while self.clock.monotonic() < deadline:
            self.heartbeat()
            try:
                if set(self.api.stage_files(self.package, stage)) >= _DONE:
                    return True
            except ApiError as exc:
                if not exc.transient:  # the daemon may be restarting: retry only then
                    raise
            if self.clock.sleep(POLL_SECONDS, self.cancel):
                raise JobCancelled(f"stopped on request while waiting for stage {stage}")
        return False

    def _retrying(self, call: Callable[[], T]) -> T:
        """`call()`, retried while the daemon is busy reloading (423) or briefly unreachable."""
        start = self.clock.monotonic()
        while True:
            try:
                return call()
            except ApiError as exc:
                waited = self.clock.monotonic() - start
                # A reload makes the API unreachable for a moment, a wrong URL forever.
                limit = self.timeout if exc.status else min(self.timeout, UNREACHABLE_SECONDS)
                if not exc.transient or waited >= limit:
                    raise
            if self.clock.sleep(POLL_SECONDS, self.cancel):
                raise JobCancelled("stopped on request while waiting for the icinga2 API")
