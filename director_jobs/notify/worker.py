"""Sending one channel's deliveries: claim, send, record each attempt, retry with back-off.

The delivery process (`python -m director_jobs.notify`) runs one of these per channel in
a thread of its own, so that a dead webhook never holds back mail or Icinga results. A
delivery is claimed (pending → sending, in batches) before it is sent and never sent again
once claimed, unless its attempt failed in a way that shows it did not arrive (refused
connection, a 5xx answer) or it was given back unsent: an event arrives at most once per
channel, even when a sender dies mid-send or several runners share the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError

from director_jobs.clock import Clock
from director_jobs.db.failures import first_line
from director_jobs.db.notifications_repo import Delivery, Finished, NotificationRepository
from director_jobs.notify.attempt import Attempt
from director_jobs.notify.config import Channel, IcingaChannel, MailChannel, WebhookChannel

log = logging.getLogger("director_jobs.notify")

# Deliveries claimed at a time (a sender killed mid-batch leaves at most these unsent);
# the next batch is claimed as soon as these are sent.
BATCH_SIZE = 20
# While a batch is sent, its results are written at least this often.
SETTLE_SECONDS = 0.5
# Back-off between attempts: 10 s, then ×3 (30 s, 90 s, 270 s, …).
FIRST_RETRY_SECONDS = 10.0
RETRY_FACTOR = 3.0
# Longest sleep when nothing is pending: new events wake the thread at once anyway.
IDLE_SECONDS = 60.0
# After a wake-up the thread waits until the runner has noted nothing for this long, and
# at most MAX_DEFER_SECONDS: what a burst of jobs notes goes out together, between them.
LINGER_SECONDS = 0.1
MAX_DEFER_SECONDS = 2.0
# After a database error the thread waits this long before it looks again.
ERROR_PAUSE_SECONDS = 5.0
# A delivery still `sending` after this long belongs to a sender that stopped mid-way: no
# batch takes longer (20 SMTP exchanges of at most ~8 steps of the 60 s longest timeout).
INTERRUPTED_AFTER = timedelta(hours=3)
# How long a stopping runner's sender keeps sending what is due: a one-shot run's last
# events (a daemon gives less: its stop budget is systemd's TimeoutStopSec).
DRAIN_SECONDS = 15.0


def send(channel: Channel, delivery: Delivery) -> Attempt:
    """Hand one delivery to the sender of its channel's kind."""
    if isinstance(channel, WebhookChannel):
        from director_jobs.notify.webhook import send_webhook

        return send_webhook(channel, delivery.payload, delivery.id)
    if isinstance(channel, MailChannel):
        from director_jobs.notify.mail import send_mail

        return send_mail(channel, delivery.payload)
    if isinstance(channel, IcingaChannel):
        from director_jobs.notify.icinga import send_check_result

        return send_check_result(channel, delivery.payload)
    return Attempt.refused(f"no sender for channels of kind {channel.kind!r}")


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones."""
    return float(FIRST_RETRY_SECONDS * RETRY_FACTOR ** max(0, attempts - 1))


class DeliveryWorker:
    """Owns the thread that sends one channel's deliveries."""

    def __init__(
        self,
        channel: Channel,
        repository: NotificationRepository,
        clock: Clock,
        runner_label: str,
        *,
        sender: Callable[[Channel, Delivery], Attempt] = send,
    ) -> None:
        self.channel = channel
        self.repository = repository
        self.clock = clock
        self.runner_label = runner_label
        self.sender = sender
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._draining = threading.Event()
        self._drained = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_cleanup = clock.monotonic()

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name=f"notify-{self.channel.name}", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        """New deliveries were noted: look now."""
        self._wake.set()

    def drain(self) -> None:
        """Send what is due now, then stop (see wait_drained)."""
        self._draining.set()
        self._wake.set()

    def wait_drained(self, seconds: float) -> None:
        """Wait until nothing was due (at most `seconds`), then stop the thread.

        Deliveries waiting for a retry stay pending: the next sender sends them.
        """
        if self._thread is None:
            return
        self._drained.wait(seconds)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5.0)
        self._thread = None

    def _loop(self) -> None:
        """Deliver until stopped; the database going away only pauses the thread."""
        while not self._stop.is_set():
            try:
                self._round()
            except DBAPIError as exc:
                log.warning("notifications: the database refused: %s", first_line(exc))
                self._stop.wait(ERROR_PAUSE_SECONDS)
            except Exception:  # our own bug: log it, keep the thread (and the runner) going
                log.exception("notifications: the delivery thread failed")
                self._stop.wait(ERROR_PAUSE_SECONDS)

    def _round(self) -> None:
        """Send what is due; when nothing is, sleep until a retry is due or a wake-up."""
        if self.clock.monotonic() >= self._next_cleanup:
            self._give_up_interrupted()
            self._next_cleanup = self.clock.monotonic() + INTERRUPTED_AFTER.total_seconds()
        if not self._draining.is_set():
            self._quiet_down()
        if self.deliver_due():
            return
        if self._draining.is_set():
            self._drained.set()
            self._stop.wait(0.05)  # wait_drained() stops the thread next
            return
        self._wake.wait(self._idle_seconds())

    def _quiet_down(self) -> None:
        """While the runner keeps noting events (a burst of short jobs), wait: each write
        of ours can make its next one wait for SQLite's lock (~1 ms of busy-wait each).
        At most MAX_DEFER_SECONDS, then the backlog goes out anyway."""
        began = self.clock.monotonic()
        while self._wake.is_set() and self.clock.monotonic() - began < MAX_DEFER_SECONDS:
            self._wake.clear()
            if self._stop.wait(LINGER_SECONDS) or self._draining.is_set():
                return

    def _idle_seconds(self) -> float:
        """Until the channel's earliest retry is due (at most IDLE_SECONDS)."""
        upcoming = self.repository.next_attempt(self.channel.name)
        if upcoming is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(0.05, (upcoming - self.clock.now()).total_seconds()))

    def _give_up_interrupted(self) -> None:
        """Fail deliveries a stopped sender left `sending` (they are not sent twice)."""
        count = self.repository.give_up_interrupted(INTERRUPTED_AFTER, self.clock.now())
        if count:
            log.warning(
                "notifications: %d interrupted while sending; not sent again (at most once)",
                count,
            )

    def deliver_due(self) -> int:
        """Claim the deliveries due now as a batch, send them, record how each went.

        Results are written every SETTLE_SECONDS of sending (so a slow receiver still gets
        one transaction per attempt) and claimed deliveries left unsent at a stop are given
        back. A sender killed mid-batch leaves its claimed ones `sending`: at most once.
        """
        batch = self.repository.claim(
            self.channel.name, self.clock.now(), self.runner_label, BATCH_SIZE
        )
        done: list[Finished] = []
        settled_at = self.clock.monotonic()
        for position, delivery in enumerate(batch):
            if self._stop.is_set():
                self.repository.settle(done, batch[position:])
                return len(done)
            done.append(self._deliver(delivery, delivery.attempts))
            if self.clock.monotonic() - settled_at >= SETTLE_SECONDS:
                self.repository.settle(done, [])
                done, settled_at = [], self.clock.monotonic()
        self.repository.settle(done, [])
        return len(batch)

    def _deliver(self, delivery: Delivery, attempt: int) -> Finished:
        """Send one claimed delivery (its `attempt`-th try, claiming counted it); how it went."""
        try:
            outcome = self.sender(self.channel, delivery)
        except Exception as exc:  # a sender's bug fails this delivery, not the thread
            log.exception("notifications: sending %d failed", delivery.id)
            outcome = Attempt.refused(f"{type(exc).__name__}: {exc}")
        now = self.clock.now()
        if outcome.delivered:
            status, retry_at = "delivered", None
        elif outcome.retry and attempt <= self.channel.retries:
            status = "pending"
            retry_at = now + timedelta(seconds=retry_delay(attempt))
        else:
            status, retry_at = "failed", None
        self._log(delivery, status, outcome, attempt, retry_at)
        return Finished(delivery.id, status, now, outcome.response_code, outcome.error, retry_at)

    @staticmethod
    def _log(
        delivery: Delivery, status: str, outcome: Attempt, attempt: int, retry_at: datetime | None
    ) -> None:
        """One line per attempt: debug when delivered, a warning otherwise."""
        what = f"{delivery.kind} {delivery.channel}: {delivery.event} of run {delivery.run_id}"
        if status == "delivered":
            log.debug("notification sent: %s (attempt %d)", what, attempt)
        elif status == "pending":
            log.warning(
                "notification not sent: %s (attempt %d): %s; trying again at %s",
                what,
                attempt,
                outcome.error,
                retry_at.isoformat() if retry_at else "?",
            )
        else:
            log.warning("notification given up: %s (attempt %d): %s", what, attempt, outcome.error)
