"""Wake a waiting daemon at once when a job is triggered, added or changed, instead of at
its next look at the due index (every 1.5 s, which stays as the safety net).

PostgreSQL: `NOTIFY director_jobs_wake` after the commit; each daemon LISTENs on a
connection of its own (autocommit) and reconnects when it is lost. SQLite: a datagram to
an abstract Unix socket named after the database file, which the daemon of this host
binds (an abstract name needs no folder both the runner and the API can write, and goes
away with the process). MariaDB: no wake-ups; the 1.5 s look finds the change.

A wake-up only makes the daemon look sooner; it carries nothing and is never trusted
for anything else, so a lost or forged one is harmless.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("director_jobs.wakeups")

CHANNEL = "director_jobs_wake"
# How the listening connection shows in pg_stat_activity.
APPLICATION_NAME = "director-jobs-wakeups"
# How long one wait for a wake-up lasts before the listener checks whether to stop.
_LISTEN_SLICE_SECONDS = 1.0
# Reconnecting after the listening connection was lost: 1 s, doubling, at most 30 s.
_RECONNECT_MAX_SECONDS = 30.0


def socket_name(url: str) -> bytes | None:
    """The abstract socket of a SQLite database file's daemon; None for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = str(Path(database).expanduser().resolve())
    # A leading NUL byte puts the name in Linux's abstract namespace (no file).
    return b"\0director-jobs-wake-" + hashlib.sha256(path.encode()).hexdigest()[:32].encode()


def send_wakeup(engine: Engine) -> None:
    """Tell a waiting daemon to look now; after the caller's commit. Never raises."""
    backend = engine.dialect.name
    try:
        if backend == "postgresql":
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
                connection.commit()
        elif backend == "sqlite":
            name = socket_name(engine.url.render_as_string(hide_password=False))
            if name is not None:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
                    sender.sendto(b"wake", name)
    except (OSError, DBAPIError) as exc:  # no daemon listens (or the database is away)
        log.debug("no wake-up sent: %s", exc)


class WakeupListener:
    """Sets `event` at each wake-up, from a thread, until `stop`.

    `start` opens the socket or the LISTEN connection before it returns, so that a
    change committed after it wakes the daemon; a connection that cannot be made then is
    retried by the thread, and the look at the due index covers the gap.
    """

    def __init__(self, url: str, event: threading.Event) -> None:
        self.url = url
        self.event = event
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen (nothing for a database without wake-ups)."""
        backend = make_url(self.url).get_backend_name()
        if backend == "sqlite":
            receiver = self._bind()
            if receiver is None:
                return
            self._run(lambda: self._receive(receiver))
        elif backend == "postgresql":
            connection = self._connect()
            self._run(lambda: self._listen_postgresql(connection))

    def stop(self) -> None:
        """End the thread (within one listening slice)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * _LISTEN_SLICE_SECONDS + 10)

    def _run(self, target: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=target, name="director-jobs-wakeups", daemon=True)
        self._thread.start()

    def _bind(self) -> socket.socket | None:
        name = socket_name(self.url)
        if name is None:
            return None
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            receiver.bind(name)
        except OSError:
            receiver.close()
            log.info("another runner on this host takes the wake-ups; this one looks every 1.5 s")
            return None
        receiver.settimeout(_LISTEN_SLICE_SECONDS)
        return receiver

    def _receive(self, receiver: socket.socket) -> None:
        with receiver:
            while not self._stopping.is_set():
                try:
                    receiver.recv(64)
                except TimeoutError:
                    continue
                self.event.set()

    def _connect(self) -> Any:
        """A LISTENing autocommit connection, or None (logged) when it cannot be made now."""
        import psycopg

        dsn = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            connection = psycopg.connect(
                dsn, autocommit=True, connect_timeout=10, application_name=APPLICATION_NAME
            )
            connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            log.warning("wake-up listener cannot connect (%s); looking every 1.5 s", _first(exc))
            return None
        return connection

    def _listen_postgresql(self, connection: Any) -> None:
        import psycopg

        delay = 1.0
        while not self._stopping.is_set():
            if connection is None:
                self._stopping.wait(delay)
                delay = min(delay * 2, _RECONNECT_MAX_SECONDS)
                connection = self._connect()
                if connection is None:
                    continue
                delay = 1.0
                self.event.set()  # a wake-up may have been missed while disconnected
            try:
                with connection:
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=_LISTEN_SLICE_SECONDS):
                            self.event.set()
            except psycopg.Error as exc:
                log.warning(
                    "wake-up listener lost its connection (%s); looking every 1.5 s and "
                    "reconnecting",
                    _first(exc),
                )
            connection = None


def _first(exc: Exception) -> str:
    """The first line of an error, for one log line."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
