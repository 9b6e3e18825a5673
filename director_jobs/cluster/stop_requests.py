"""Stop requests from other processes (`jobs stop`, the API): the runner that holds a run
looks for one while the job runs and stops the job as it would on SIGTERM."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import DBAPIError

from director_jobs.db.database import Database
from director_jobs.db.failures import first_line

log = logging.getLogger("director_jobs.runner")

# How often a running job's runner reads its run's stop request (one primary-key SELECT).
# With the 0.1 s poll of the job's watch loop, a stop takes effect within about 0.6 s.
LOOK_SECONDS = 0.5


class StopRequestWatch:
    """Called on every tick of a running job; sets `cancel` once a stop was asked for."""

    def __init__(self, database: Database, run_id: int, cancel: threading.Event) -> None:
        self.database = database
        self.run_id = run_id
        self.cancel = cancel
        self.stopped_by: str | None = None
        # Real time, not the runner's clock: this paces database reads, it is not a schedule.
        self._next_look = 0.0

    def look(self) -> None:
        """Read the run's stop request, at most every LOOK_SECONDS."""
        if self.stopped_by is not None or time.monotonic() < self._next_look:
            return
        self._next_look = time.monotonic() + LOOK_SECONDS
        try:
            by = self.database.runs.stop_requested_by(self.run_id)
        except DBAPIError as exc:  # an outage: the job runs on; the next look may see it
            log.debug("stop request of run %d not read: %s", self.run_id, first_line(exc))
            return
        if by is not None:
            self.stopped_by = by
            self.cancel.set()
