"""systemd integration: sd_notify messages and the watchdog (journald logging is in logs.py)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger("director_jobs.systemd")


class Notifier:
    """Sends READY/STATUS/WATCHDOG/STOPPING to systemd; silent when not run by systemd.

    A NOTIFY_SOCKET that does not exist (a unit file copied to a shell, a stale
    variable) is logged once and then ignored: notification must never stop the runner.
    """

    def __init__(self, socket_path: str | None = None) -> None:
        self.socket_path = (
            socket_path if socket_path is not None else os.environ.get("NOTIFY_SOCKET")
        )
        self._failed = False
        self._lock = threading.Lock()
        # STATUS is sent from the main loop and the watchdog thread: text made and sent
        # under one lock, so that an older text never overtakes a newer one.
        self._status_lock = threading.Lock()
        self.last_status = ""

    @property
    def enabled(self) -> bool:
        """True when systemd asked for notifications."""
        return bool(self.socket_path) and not self._failed

    def send(self, *assignments: str) -> bool:
        """Send `KEY=value` lines; False when nobody listens."""
        if not self.enabled:
            return False
        from systemd import daemon  # imported only where systemd is in use

        with self._lock:
            try:
                return bool(daemon.notify("\n".join(assignments)))
            except OSError as exc:
                self._failed = True
                log.warning(
                    "cannot notify systemd through %s: %s; notifications disabled",
                    self.socket_path,
                    exc,
                )
                return False

    def ready(self, status: str) -> None:
        """READY=1 with a first STATUS."""
        with self._status_lock:
            self.last_status = status
            self.send("READY=1", f"STATUS={status}")

    def status(self, text: str) -> None:
        """STATUS=…, sent only when it changed."""
        self.refresh(lambda: text)

    def refresh(self, status: Callable[[], str]) -> None:
        """STATUS=status(), made and sent under the status lock; only when it changed."""
        with self._status_lock:
            text = status()
            if text != self.last_status:
                self.last_status = text
                self.send(f"STATUS={text}")

    def stopping(self, status: str) -> None:
        """STOPPING=1 with a last STATUS."""
        self.send("STOPPING=1", f"STATUS={status}")

    def watchdog(self) -> None:
        """WATCHDOG=1."""
        self.send("WATCHDOG=1")


def watchdog_interval() -> float | None:
    """Half of WATCHDOG_USEC in seconds (systemd's advice), when the watchdog is meant for us."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 2_000_000


class Watchdog:
    """Pings WATCHDOG=1 from a thread while the main loop shows signs of life.

    The main loop calls `beat()` between passes and while it waits for a job; if it stops
    beating for longer than `stall_limit` (a deadlock, a hung call) the pings stop and
    systemd restarts the service. `status` is called before each ping to refresh STATUS
    (the daemon also sends it at once when a job starts or ends).
    """

    def __init__(
        self,
        notifier: Notifier,
        interval: float,
        stall_limit: float,
        status: Callable[[], str] | None = None,
    ) -> None:
        self.notifier = notifier
        self.interval = interval
        self.stall_limit = stall_limit
        self._status = status
        self._last_beat = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self.pings = 0

    def beat(self) -> None:
        """The main loop is alive."""
        self._last_beat = time.monotonic()

    def start(self) -> None:
        """Start pinging."""
        self._thread.start()

    def stop(self) -> None:
        """Stop pinging (at shutdown)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if time.monotonic() - self._last_beat > self.stall_limit:
                log.error(
                    "main loop stalled for more than %.0f s; letting the watchdog fire",
                    self.stall_limit,
                )
                continue
            try:
                if self._status is not None:
                    self.notifier.refresh(self._status)
                self.notifier.watchdog()
                self.pings += 1
            except Exception:  # the watchdog thread must outlive any hiccup
                log.exception("watchdog ping failed")
