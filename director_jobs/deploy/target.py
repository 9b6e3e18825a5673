"""What every deployment target provides, and what it reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from director_jobs.deploy.render import RenderedConfig


@dataclass(frozen=True)
class DeployOutcome:
    """The result of one deployment: success, the output to record, why, and the API stage."""

    ok: bool
    output: str
    reason: str
    stage: str | None = None
    # Whether trying again may help: not when the configuration itself was refused.
    retry: bool = True


class Target(Protocol):
    """A place configuration goes to: a directory, or an Icinga 2 API config package."""

    @property
    def name(self) -> str:
        """`directory:/path` or `icinga2-api:https://host:5665/package` (deployments.target)."""

    @property
    def prefix(self) -> str:
        """Where the rendered files go inside the target ('' or 'zones.d/<zone>/')."""

    def deploy(self, config: RenderedConfig) -> DeployOutcome:
        """Validate and put `config` in place; never leaves a half-deployed state behind."""
