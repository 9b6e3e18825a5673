"""A running job's output, saved while it runs, so that `jobs logs --follow` and the API's
log stream (other processes) can show it as it arrives."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import DBAPIError

from director_jobs.db.database import Database
from director_jobs.db.failures import first_line
from director_jobs.output import OutputTail

log = logging.getLogger("director_jobs.runner")

# How often, at most, a run's output is written while it grows: each save rewrites the
# tail (up to 64 KiB), so a chatty job costs two small UPDATEs a second, and a follower
# sees a line about half a second after the job wrote it.
SAVE_SECONDS = 0.5


class LiveOutput:
    """Called on every tick of a running job; saves the output tail when it has grown."""

    def __init__(self, database: Database, run_id: int, tail: OutputTail) -> None:
        self.database = database
        self.run_id = run_id
        self.tail = tail
        self._saved_lines = 0
        # Real time, not the runner's clock: this paces database writes, it is no schedule.
        self._next_save = time.monotonic() + SAVE_SECONDS

    def save(self) -> None:
        """Write the tail if lines came since the last save, at most every SAVE_SECONDS."""
        if time.monotonic() < self._next_save:
            return
        self._next_save = time.monotonic() + SAVE_SECONDS
        text, lines = self.tail.snapshot()
        if lines == self._saved_lines:
            return
        try:
            self.database.runs.save_output(self.run_id, text, lines, self.tail.progress)
        except DBAPIError as exc:  # an outage: the job runs on, the end of the run stores it
            log.debug("output of run %d not saved: %s", self.run_id, first_line(exc))
            return
        self._saved_lines = lines
