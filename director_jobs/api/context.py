"""What every request handler needs: the database, the clock, settings and the services."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from director_jobs.api.log_stream import FollowerSlots
from director_jobs.api.throttle import FailureThrottle
from director_jobs.clock import Clock
from director_jobs.db.database import Database
from director_jobs.job_types.registry import Registry
from director_jobs.services.jobs import JobService
from director_jobs.services.periods import PeriodService
from director_jobs.services.runs import RunService
from director_jobs.services.status import StatusService
from director_jobs.services.tokens import TokenService
from director_jobs.settings import Settings


@dataclass
class ApiContext:
    """One per server process, built at start-up; the services are cheap to make per request."""

    settings: Settings
    database: Database
    clock: Clock
    registry: Registry = field(default_factory=Registry)
    throttle: FailureThrottle = field(default_factory=FailureThrottle)
    followers: FollowerSlots = field(default_factory=FollowerSlots)  # open log streams

    def periods(self, actor: str = "api:anonymous") -> PeriodService:
        """Time periods, read fresh for this request; changes logged as made by `actor`."""
        return PeriodService(self.database, self.clock, self.settings.timezone, actor=actor)

    def jobs(self, actor: str = "api:anonymous") -> JobService:
        """Job definitions, views and triggers; changes logged as made by `actor`."""
        return JobService(
            self.database,
            self.registry,
            self.clock,
            self.settings.timezone,
            self.periods(),
            actor=actor,
        )

    def runs(self) -> RunService:
        """The run history."""
        return RunService(self.database, self.clock, self.settings.timezone)

    def status(self) -> StatusService:
        """Health and runners."""
        return StatusService(self.database, self.clock)

    def tokens(self) -> TokenService:
        """Token checks."""
        return TokenService(self.database, self.clock)


async def context(request: Request) -> ApiContext:
    """The process's ApiContext (a FastAPI dependency; async: no thread for a lookup)."""
    found = request.app.state.context
    assert isinstance(found, ApiContext)
    return found
