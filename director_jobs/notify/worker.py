"""The delivery thread: sends noted notifications, retries with back-off, records each attempt.

It runs beside the runner's main loop, so that a slow or dead receiver never delays the
next job. A delivery is claimed (pending → sending) before it is sent and never sent again
once claimed unless its attempt failed in a way worth retrying: an event arrives at most
once per channel, even when a runner dies mid-send or several runners share the database.
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
from director_jobs.notify.config import (
    Channel,
    IcingaChannel,
    MailChannel,
    NotifyConfig,
    WebhookChannel,
)

log = logging.getLogger("director_jobs.notify")

# Deliveries claimed at a time; the next batch is read as soon as these are sent.
BATCH_SIZE = 20
# Back-off between attempts: 10 s, then ×3 (30 s, 90 s, 270 s, …).
FIRST_RETRY_SECONDS = 10.0
RETRY_FACTOR = 3.0
# Longest sleep when nothing is pending: new events wake the thread at once anyway.
IDLE_SECONDS = 60.0
# After a database error the thread waits this long before it looks again.
ERROR_PAUSE_SECONDS = 5.0
# A delivery still `sending` after this long belongs to a runner that stopped mid-way (no
# attempt takes longer: every sender has a timeout of at most 300 s).
INTERRUPTED_AFTER = timedelta(minutes=10)
# How long a stopping runner keeps sending what is due (a one-shot run's last events).
DRAIN_SECONDS = 15.0


def _send(channel: Channel, delivery: Delivery) -> Attempt:
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
    """Owns the delivery thread of one runner process."""

    def __init__(
        self,
        config: NotifyConfig,
        repository: NotificationRepository,
        clock: Clock,
        runner_label: str,
        *,
        send: Callable[[Channel, Delivery], Attempt] = _send,
    ) -> None:
        self.channels = {channel.name: channel for channel in config.channels}
        self.repository = repository
        self.clock = clock
        self.runner_label = runner_label
        self.send = send
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._draining = threading.Event()
        self._drained = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="director-jobs-notify", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        """New deliveries were noted: look now."""
        self._wake.set()

    def close(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Send what is due (at most `drain_seconds`), then stop the thread.

        Deliveries waiting for a retry stay pending: the next runner sends them.
        """
        if self._thread is None:
            return
        self._draining.set()
        self._wake.set()
        self._drained.wait(drain_seconds)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5.0)
        self._thread = None

    def _loop(self) -> None:
        """Deliver until stopped; the database going away only pauses the thread."""
        try:
            self._give_up_interrupted()
        except DBAPIError as exc:
            log.warning("notifications: cannot look for interrupted ones: %s", first_line(exc))
        while not self._stop.is_set():
            try:
                sent = self.deliver_due()
            except DBAPIError as exc:
                log.warning("notifications: the database refused: %s", first_line(exc))
                self._stop.wait(ERROR_PAUSE_SECONDS)
                continue
            except Exception:  # our own bug: log it, keep the thread (and the runner) going
                log.exception("notifications: the delivery thread failed")
                self._stop.wait(ERROR_PAUSE_SECONDS)
                continue
            if sent:
                continue
            if self._draining.is_set():
                self._drained.set()
                self._stop.wait(0.05)  # close() stops the thread next
                continue
            self._wake.wait(self._idle_seconds())
            self._wake.clear()

    def _idle_seconds(self) -> float:
        """Until the earliest retry is due (at most IDLE_SECONDS)."""
        upcoming = self.repository.next_attempt()
        if upcoming is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(0.05, (upcoming - self.clock.now()).total_seconds()))

    def _give_up_interrupted(self) -> None:
        """Fail deliveries a stopped runner left `sending` (they are not sent twice)."""
        count = self.repository.give_up_interrupted(INTERRUPTED_AFTER, self.clock.now())
        if count:
            log.warning(
                "notifications: %d interrupted while sending; not sent again (at most once)",
                count,
            )

    def deliver_due(self) -> int:
        """Claim and send the deliveries due now, one at a time; return how many were sent.

        Each transaction records one attempt and claims the next delivery, so that a
        stopped runner leaves at most the one it was sending unrecorded.
        """
        attempted = 0
        done: Finished | None = None
        for delivery in self.repository.due(self.clock.now(), BATCH_SIZE):
            if self._stop.is_set():
                break
            claimed = self.repository.advance(
                done, delivery.id, self.runner_label, self.clock.now()
            )
            done = None
            if claimed:  # else another runner has it
                attempted += 1
                done = self._deliver(delivery)
        if done is not None:
            self.repository.advance(done, None, self.runner_label, self.clock.now())
        return attempted

    def _deliver(self, delivery: Delivery) -> Finished:
        """Send one claimed delivery; how it went."""
        channel = self.channels.get(delivery.channel)
        if channel is None:
            outcome = Attempt.refused(f"channel {delivery.channel!r} is no longer configured")
        else:
            try:
                outcome = self.send(channel, delivery)
            except Exception as exc:  # a sender's bug fails this delivery, not the thread
                log.exception("notifications: sending %d failed", delivery.id)
                outcome = Attempt.refused(f"{type(exc).__name__}: {exc}")
        now = self.clock.now()
        attempts = delivery.attempts + 1  # this one included
        retries = channel.retries if channel is not None else 0
        if outcome.delivered:
            status, retry_at = "delivered", None
        elif outcome.retry and attempts <= retries:
            status = "pending"
            retry_at = now + timedelta(seconds=retry_delay(attempts))
        else:
            status, retry_at = "failed", None
        self._log(delivery, status, outcome, attempts, retry_at)
        return Finished(delivery.id, status, now, outcome.response_code, outcome.error, retry_at)

    @staticmethod
    def _log(
        delivery: Delivery, status: str, outcome: Attempt, attempts: int, retry_at: datetime | None
    ) -> None:
        """One line per attempt: debug when delivered, a warning otherwise."""
        what = f"{delivery.kind} {delivery.channel}: {delivery.event} of run {delivery.run_id}"
        if status == "delivered":
            log.debug("notification sent: %s (attempt %d)", what, attempts)
        elif status == "pending":
            log.warning(
                "notification not sent: %s (attempt %d): %s; trying again at %s",
                what,
                attempts,
                outcome.error,
                retry_at.isoformat() if retry_at else "?",
            )
        else:
            log.warning("notification given up: %s (attempt %d): %s", what, attempts, outcome.error)
