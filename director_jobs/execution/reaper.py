"""A watcher that kills the running job when its runner dies (kill -9, OOM, power cut of the
process): without it a job's grandchildren would live on until the next runner comes.

It is a small shell of its own session that reads what the runner tells it on a pipe:
`job CGROUP PGID` when a job starts, `none` when it ended. The runner holds the only
write end, so when the runner dies, however it dies, the shell reads end-of-file and
kills the job it last heard of: its cgroup at once (cgroup.kill), and its process group.
A runner that exits cleanly has ended its job already; the shell then kills nothing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import weakref
from typing import Any

# Signals to the terminal's process group (Ctrl-C) or the unit must not end the watcher
# before the runner: it is in a session of its own, and ignores them anyway. (dash, the
# usual /bin/sh, takes `kill -KILL -PGID` but not `kill -KILL -- -PGID`.)
_SCRIPT = """
trap '' INT TERM HUP QUIT
cg=- pg=-
while read -r verb a b; do
    if [ "$verb" = job ]; then cg=$a pg=$b; else cg=- pg=-; fi
done
[ "$cg" != - ] && echo 1 > "$cg/cgroup.kill" 2>/dev/null
[ "$pg" != - ] && kill -KILL "-$pg" 2>/dev/null
exit 0
"""


class Reaper:
    """Starts the watcher on first use; tells it about each job."""

    def __init__(self) -> None:
        self._write_end: int | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def write_end(self) -> int | None:
        """The pipe's write end, which a forked job child must close (it is not exec'd)."""
        return self._write_end

    def watch(self, cgroup: str | None, process_group: int | None) -> None:
        """Kill this job's cgroup and process group if the runner dies before `forget`."""
        if cgroup is not None and (not cgroup or any(c.isspace() for c in cgroup)):
            cgroup = None  # the line format has no quoting; the process group still goes
        self._send(f"job {cgroup or '-'} {process_group or '-'}\n")

    def forget(self) -> None:
        """The job is over: nothing to kill any more."""
        if self._write_end is not None:
            self._send("none\n")

    def close(self) -> None:
        """Let the watcher go (the runner is done; also when this object is collected)."""
        if self._finalizer is not None:
            self._finalizer()
        self._write_end = None

    def _send(self, line: str) -> None:
        if self._write_end is None:
            self._start()
        assert self._write_end is not None
        try:
            os.write(self._write_end, line.encode())
        except OSError:  # the watcher is gone (killed by hand): start a new one
            self.close()
            self._start()
            assert self._write_end is not None
            os.write(self._write_end, line.encode())

    def _start(self) -> None:
        read_end, write_end = os.pipe()  # both close-on-exec: no job inherits the write end
        try:
            process = subprocess.Popen(
                ["/bin/sh", "-c", _SCRIPT],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(read_end)
        self._write_end = write_end
        self._finalizer = weakref.finalize(self, _let_go, write_end, process)


def _let_go(write_end: int, process: subprocess.Popen[bytes]) -> None:
    """Close the pipe (the watcher reads end-of-file and exits) and reap the watcher."""
    with contextlib.suppress(OSError):
        os.close(write_end)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
