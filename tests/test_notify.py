"""Notifications: webhooks, mail and Icinga passive results, from real runs to real receivers."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import DIRECTOR, director_env, free_port, invoke, run_director, wait_for
from receivers import smtp_ca, smtp_receiver, webhook_receiver
from sqlalchemy import create_engine, select, text

from director_jobs import exit_codes
from director_jobs.db.database import Database
from director_jobs.db.schema import notifications
from director_jobs.model import RunEvent, RunStatus, Trigger
from director_jobs.notify.config import Selection
from director_jobs.notify.worker import retry_delay

SECRET = "hook-secret-9f8e7d"
FLAG_JOB = ["sh", "-c", 'echo checking; test -f "$FLAG"']


def write_config(folder: Path, body: str) -> Path:
    """A config file with the given channel tables."""
    path = folder / "config.toml"
    path.write_text(body)
    return path


def webhook_config(folder: Path, receiver: Any, extra: str = "") -> Path:
    """A config with one signed webhook to `receiver`, trusting its certificate."""
    secret = folder / "hook.secret"
    secret.write_text(SECRET + "\n")
    return write_config(
        folder,
        f"""
[[webhook]]
name = "ops-chat"
url = "{receiver.url}"
secret_file = "{secret}"
ca_file = "{receiver.cert}"
{extra}
""",
    )


def add_command_job(url: str, name: str, command: list[str], *extra: str) -> None:
    """`director jobs add NAME --type command` with `command`."""
    result = invoke(
        url,
        "jobs", "add", name, "--type", "command",
        "--parameters", json.dumps({"command": command}), *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def deliveries(url: str) -> list[dict[str, Any]]:
    """Every notifications row, oldest first."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:  # typed columns: times come back aware
            rows = connection.execute(select(notifications).order_by(notifications.c.id))
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def run_jobs(
    url: str, config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`director jobs run ARGS` with the config file, as a real child process."""
    return run_director(
        url, "--verbose", "jobs", "run", *args,
        env={"DIRECTOR_JOBS_CONFIG": str(config), **(env or {})}, timeout=120,
    )  # fmt: skip


def pending_row(run_id: int, now: datetime) -> dict[str, Any]:
    """A notifications row due now, for channel "c" and job "j"."""
    return {
        "channel": "c", "kind": "webhook", "event": "finished", "run_id": run_id,
        "job_name": "j", "payload": {}, "status": "pending", "attempts": 0,
        "next_attempt_at": now, "created_at": now,
    }  # fmt: skip


# -- webhooks -------------------------------------------------------------------------


def test_a_failed_run_is_posted_signed_and_recorded(db_url: str, tmp_path: Path) -> None:
    with webhook_receiver(tmp_path) as receiver:
        config = webhook_config(tmp_path, receiver)
        add_command_job(db_url, "nightly-backup", ["sh", "-c", "echo copying; exit 3"])
        result = run_jobs(db_url, config, "nightly-backup")
        assert result.returncode == exit_codes.JOB_FAILED, result.stderr
        [request] = receiver.received
    body = request.json
    assert body["job"] == "nightly-backup" and body["event"] == "finished"
    assert body["status"] == "error" and body["exit_code"] == 3 and body["final"] is True
    assert body["trigger"] == "manual" and body["attempt"] == 1
    assert body["last_line"] == "copying" and "exited with 3" in body["error"]
    assert body["started_at"].endswith("Z") and body["finished_at"].endswith("Z")
    assert isinstance(body["duration"], float) and body["run_id"] >= 1
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Director-Jobs-Signature"] == expected
    assert request.path == "/hook/path-secret-4711"
    [row] = deliveries(db_url)
    assert (row["channel"], row["kind"], row["event"]) == ("ops-chat", "webhook", "finished")
    assert (row["status"], row["attempts"], row["response_code"]) == ("delivered", 1, 200)
    assert row["run_id"] == body["run_id"] and row["delivered_at"] is not None
    assert SECRET not in result.stderr and "path-secret-4711" not in result.stderr


def test_only_the_events_a_channel_asks_for_are_noted(sqlite_url: str, tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    with webhook_receiver(tmp_path) as receiver:
        config = webhook_config(tmp_path, receiver, 'on = ["final-failure", "recovery"]')
        add_command_job(sqlite_url, "flappy", FLAG_JOB)
        env = {"FLAG": str(flag)}
        assert run_jobs(sqlite_url, config, "flappy", env=env).returncode == 1
        flag.write_text("")
        for _ in range(2):  # the first success is a recovery, the second is not news
            assert run_jobs(sqlite_url, config, "flappy", env=env).returncode == 0
        bodies = receiver.bodies()
    assert [(b["status"], b["recovery"]) for b in bodies] == [("error", False), ("success", True)]
    assert len(deliveries(sqlite_url)) == 2  # nothing is noted for the third run


def test_a_job_outside_the_selection_is_not_noted(sqlite_url: str, tmp_path: Path) -> None:
    with webhook_receiver(tmp_path) as receiver:
        config = webhook_config(tmp_path, receiver, 'tags = ["backup"]')
        add_command_job(sqlite_url, "tagged", ["true"], "--tag", "backup")
        add_command_job(sqlite_url, "untagged", ["true"])
        assert run_jobs(sqlite_url, config, "tagged", "untagged").returncode == 0
        assert [b["job"] for b in receiver.bodies()] == ["tagged"]
    assert [row["job_name"] for row in deliveries(sqlite_url)] == ["tagged"]


def test_a_failed_delivery_is_retried_with_back_off(sqlite_url: str, tmp_path: Path) -> None:
    with webhook_receiver(tmp_path, statuses=[503, 200]) as receiver:
        config = webhook_config(tmp_path, receiver)
        add_command_job(sqlite_url, "sync", ["true"])
        assert run_jobs(sqlite_url, config, "sync").returncode == 0
        [row] = deliveries(sqlite_url)
        assert (row["status"], row["attempts"], row["response_code"]) == ("pending", 1, 503)
        assert row["error"] == "HTTP 503 Service Unavailable"
        wait_seconds = (row["next_attempt_at"] - row["sent_at"]).total_seconds()
        assert wait_seconds >= retry_delay(1) == 10.0

        def delivered() -> dict[str, Any] | None:
            # A pass with nothing due still sends what is due (cron's next `jobs run`).
            assert run_jobs(sqlite_url, config).returncode == 0
            [row] = deliveries(sqlite_url)
            return row if row["status"] == "delivered" else None

        row = wait_for(delivered, "the retried delivery", seconds=120)
        ids = [request.headers["X-Director-Jobs-Delivery"] for request in receiver.received]
    assert (row["attempts"], row["response_code"]) == (2, 200)
    assert ids == [str(row["id"])] * 2  # the same delivery, so receivers can drop repeats


def test_a_refused_delivery_is_not_retried(sqlite_url: str, tmp_path: Path) -> None:
    with webhook_receiver(tmp_path, statuses=[404]) as receiver:
        config = webhook_config(tmp_path, receiver)
        add_command_job(sqlite_url, "sync", ["true"])
        assert run_jobs(sqlite_url, config, "sync").returncode == 0
        assert run_jobs(sqlite_url, config).returncode == 0
        assert len(receiver.received) == 1
    [row] = deliveries(sqlite_url)
    assert (row["status"], row["attempts"], row["response_code"]) == ("failed", 1, 404)
    assert row["next_attempt_at"] is None


def test_an_untrusted_certificate_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    with webhook_receiver(tmp_path) as receiver:
        # No ca_file: the receiver's self-signed certificate is not trusted by the system.
        config = write_config(tmp_path, f'[[webhook]]\nname = "x"\nurl = "{receiver.url}"\n')
        add_command_job(sqlite_url, "sync", ["true"])
        assert run_jobs(sqlite_url, config, "sync").returncode == 0
        assert receiver.received == []
    [row] = deliveries(sqlite_url)
    assert row["status"] == "failed" and row["error"].startswith("TLS: ")
    assert "certificate" in row["error"]


def start_daemon(url: str, config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`director jobs run --forever` in its own process group."""
    env = {**director_env(url), "DIRECTOR_JOBS_CONFIG": str(config)}
    with log.open("wb") as out:
        return subprocess.Popen(
            [*DIRECTOR, "--verbose", "jobs", "run", "--forever", "--look-every", "0.2s"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture
def stop_later() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes to kill (their whole group) when the test ends."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def run_status(url: str, job: str) -> list[str]:
    """The statuses of `job`'s runs, oldest first."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT status FROM runs WHERE job_name = :job ORDER BY id"), {"job": job}
            )
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def test_a_hanging_receiver_does_not_hold_up_the_next_job(
    sqlite_url: str, tmp_path: Path, stop_later: list[subprocess.Popen[bytes]]
) -> None:
    with webhook_receiver(tmp_path) as receiver:
        receiver.gate.clear()  # the receiver takes requests and does not answer
        config = webhook_config(tmp_path, receiver, 'timeout = "60s"\n')
        add_command_job(sqlite_url, "first", ["true"], "--interval", "1h")
        daemon = start_daemon(sqlite_url, config, tmp_path / "daemon.log")
        stop_later.append(daemon)
        wait_for(lambda: receiver.arrived.is_set(), "the first job's notification")
        add_command_job(sqlite_url, "second", ["true"], "--interval", "1h")
        wait_for(lambda: run_status(sqlite_url, "second") == ["success"], "the second job's run")
        # The first delivery still hangs in the receiver while the second job has run.
        statuses = {row["job_name"]: row["status"] for row in deliveries(sqlite_url)}
        assert statuses["first"] == "sending", statuses
        receiver.gate.set()
        wait_for(
            lambda: (
                all(row["status"] == "delivered" for row in deliveries(sqlite_url))
                and len(deliveries(sqlite_url)) == 2
            ),
            "both deliveries",
        )
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0, (tmp_path / "daemon.log").read_text()


def test_a_delivery_cut_short_by_a_killed_runner_is_not_sent_again(
    sqlite_url: str, tmp_path: Path, stop_later: list[subprocess.Popen[bytes]]
) -> None:
    with webhook_receiver(tmp_path) as receiver:
        receiver.gate.clear()
        config = webhook_config(tmp_path, receiver, 'timeout = "60s"\n')
        add_command_job(sqlite_url, "first", ["true"], "--interval", "1h")
        daemon = start_daemon(sqlite_url, config, tmp_path / "daemon.log")
        stop_later.append(daemon)
        wait_for(lambda: receiver.arrived.is_set(), "the first job's notification")
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait(timeout=30)
        receiver.gate.set()
        add_command_job(sqlite_url, "second", ["true"])
        assert run_jobs(sqlite_url, config, "second").returncode == 0
        rows = {row["job_name"]: row for row in deliveries(sqlite_url)}
        assert rows["second"]["status"] == "delivered"
        # Whether the killed runner's request got through is unknown: it is not repeated.
        assert rows["first"]["status"] == "sending" and rows["first"]["attempts"] == 1
        sent = [request.headers["X-Director-Jobs-Delivery"] for request in receiver.received]
    assert sent.count(str(rows["first"]["id"])) == 1


def test_start_events_when_asked_for(sqlite_url: str, tmp_path: Path) -> None:
    with webhook_receiver(tmp_path) as receiver:
        config = webhook_config(tmp_path, receiver, 'events = ["started"]')
        add_command_job(sqlite_url, "sync", ["true"])
        assert run_jobs(sqlite_url, config, "sync").returncode == 0
        [body] = receiver.bodies()
    assert (body["event"], body["status"], body["finished_at"]) == ("started", "running", None)


# -- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ('url = "http://hooks.example.com/abc-secret"', ("webhook[0].url", "https")),
        ('url = "https://user:pw@hooks.example.com/x"', ("webhook[0].url", "credentials")),
        ('url = "ftp://hooks.example.com/x"', ("webhook[0].url", "expected https")),
        ('url = "https://h.example.com/x"\non = ["sometimes"]', ("webhook[0].on", "'sometimes'")),
        ('url = "https://h.example.com/x"\nevents = "begun"', ("webhook[0].events", "'begun'")),
        ('url = "https://h.example.com/x"\nretry = 3', ("unknown key webhook[0].retry",)),
        ('url = "https://h.example.com/x"\nretries = 99', ("webhook[0].retries", "99")),
        ('url = "https://h.example.com/x"\nsecret_file = "/nonexistent/s"', ("secret_file",)),
        ('url = "https://h.example.com/x"\nca_file = "/nonexistent/ca"', ("webhook[0].ca_file",)),
    ],
)
def test_a_bad_channel_is_refused_in_one_line(
    sqlite_url: str, tmp_path: Path, table: str, names: tuple[str, ...]
) -> None:
    config = write_config(tmp_path, f'[[webhook]]\nname = "chat"\n{table}\n')
    result = run_director(
        sqlite_url, "jobs", "add", "x", "--type", "self-check",
        env={"DIRECTOR_JOBS_CONFIG": str(config)},
    )  # fmt: skip
    assert result.returncode == exit_codes.CONFIG, result.stderr
    [line] = result.stderr.strip().splitlines()
    for name in names:
        assert name in line
    assert "abc-secret" not in line and ":pw@" not in line  # URL paths and passwords stay out
    assert invoke(sqlite_url, "jobs", "list", "--json").output.strip() == "[]"


def test_mail_and_icinga_tables_are_checked(sqlite_url: str, tmp_path: Path) -> None:
    cases = {
        '[[mail]]\nname = "m"\nto = ["ops@example.com"]\nfrom = "d@example.com"\n': "smtp",
        '[[mail]]\nname = "m"\nto = ["not-an-address"]\nfrom = "d@example.com"\n'
        'smtp = "127.0.0.1:25"\n': "'not-an-address'",
        '[icinga]\nurl = "https://127.0.0.1:5665"\nusername = "u"\nhost = "h"\n': "password",
        '[icinga]\nurl = "http://icinga.example.com:5665"\nusername = "u"\npassword = "p"\n'
        'host = "h"\n': "https",
    }
    for body, word in cases.items():
        config = write_config(tmp_path, body)
        result = run_director(sqlite_url, "status", env={"DIRECTOR_JOBS_CONFIG": str(config)})
        assert result.returncode == exit_codes.CONFIG, (body, result.stderr)
        assert word in result.stderr, (body, result.stderr)


@pytest.mark.parametrize(
    ("on", "status", "final", "previous_failed", "wanted"),
    [
        ("all", RunStatus.SUCCESS, True, None, True),
        ("failure", RunStatus.ERROR, False, None, True),
        ("failure", RunStatus.SUCCESS, True, True, False),
        ("final-failure", RunStatus.TIMEOUT, False, None, False),
        ("final-failure", RunStatus.TIMEOUT, True, None, True),
        ("recovery", RunStatus.SUCCESS, True, True, True),
        ("recovery", RunStatus.SUCCESS, True, False, False),
        ("recovery", RunStatus.SUCCESS, True, None, False),
        ("success", RunStatus.STOPPED, True, None, False),
    ],
)
def test_filters(
    on: str, status: RunStatus, final: bool, previous_failed: bool | None, wanted: bool
) -> None:
    event = RunEvent(
        "finished", 7, "job", "command", (), status, Trigger.SCHEDULE, 1, None, final=final
    )
    assert Selection(on=frozenset({on})).wants(event, previous_failed) is wanted


# -- mail -----------------------------------------------------------------------------


def test_mail_through_smtp_with_starttls_and_a_password(sqlite_url: str, tmp_path: Path) -> None:
    password = "smtp-pass-31337"
    (tmp_path / "smtp.password").write_text(password + "\n")
    with smtp_receiver(tmp_path, free_port(), "director", password) as server:
        config = write_config(
            tmp_path,
            f"""
[[mail]]
name = "ops-mail"
to = ["ops@example.com", "oncall@example.com"]
from = "director-jobs@example.com"
smtp = "127.0.0.1:{server.port}"
username = "director"
password_file = "{tmp_path / "smtp.password"}"
ca_file = "{smtp_ca(tmp_path)}"
""",
        )
        add_command_job(sqlite_url, "import-cmdb", ["sh", "-c", "echo 'no rows'; exit 2"])
        result = run_jobs(sqlite_url, config, "import-cmdb")
        assert result.returncode == 1
        [message] = server.messages
    text_of = message.decode()
    assert "Subject: [director-jobs] import-cmdb failed: error (run 1)" in text_of
    assert "To: ops@example.com, oncall@example.com" in text_of
    assert "last_line: no rows" in text_of and "exit_code: 2" in text_of
    assert server.logins == ["director"]
    [row] = deliveries(sqlite_url)
    assert (row["kind"], row["status"], row["response_code"]) == ("mail", "delivered", 250)
    assert password not in result.stderr


def test_mail_by_default_only_on_final_failure_and_recovery(
    sqlite_url: str, tmp_path: Path
) -> None:
    capture = tmp_path / "mails"
    sendmail = tmp_path / "sendmail"
    sendmail.write_text(f'#!/bin/sh\necho "$@" >> {capture}.args\ncat >> {capture}\n')
    sendmail.chmod(0o755)
    config = write_config(
        tmp_path,
        f'[[mail]]\nname = "m"\nto = "ops@example.com"\nfrom = "d@example.com"\n'
        f'sendmail = "{sendmail}"\n',
    )
    add_command_job(sqlite_url, "ok", ["true"])
    add_command_job(sqlite_url, "broken", ["false"])
    assert run_jobs(sqlite_url, config, "ok", "broken").returncode == 1
    mails = capture.read_text()
    assert mails.count("Subject:") == 1 and "Subject: [director-jobs] broken failed" in mails
    assert capture.with_suffix(".args").read_text().split() == ["-t", "-oi"]
    assert [row["status"] for row in deliveries(sqlite_url)] == ["delivered"]


def test_a_failing_sendmail_is_retried(sqlite_url: str, tmp_path: Path) -> None:
    sendmail = tmp_path / "sendmail"
    sendmail.write_text("#!/bin/sh\necho 'queue full' >&2\nexit 75\n")
    sendmail.chmod(0o755)
    config = write_config(
        tmp_path,
        f'[[mail]]\nname = "m"\nto = "ops@example.com"\nfrom = "d@example.com"\n'
        f'sendmail = "{sendmail}"\non = ["all"]\n',
    )
    add_command_job(sqlite_url, "ok", ["true"])
    assert run_jobs(sqlite_url, config, "ok").returncode == 0
    [row] = deliveries(sqlite_url)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["error"] == "sendmail exited with 75: queue full"


def test_deliveries_are_shown_by_jobs_show_and_the_api(sqlite_url: str, tmp_path: Path) -> None:
    with webhook_receiver(tmp_path, statuses=[500]) as receiver:
        config = webhook_config(tmp_path, receiver)
        add_command_job(sqlite_url, "sync", ["false"])
        assert run_jobs(sqlite_url, config, "sync").returncode == 1
    shown = invoke(sqlite_url, "jobs", "show", "sync")
    assert shown.exit_code == 0, shown.output
    assert "notifications:" in shown.output
    assert "run #1 finished → webhook ops-chat: pending (500), attempt 1" in shown.output
    assert "HTTP 500 Internal Server Error" in shown.output
    assert ", next at " in shown.output  # when the retry comes
    [listed] = json.loads(invoke(sqlite_url, "jobs", "show", "sync", "--json").output)[
        "notifications"
    ]
    assert (listed["channel"], listed["status"], listed["attempts"]) == ("ops-chat", "pending", 1)
    assert listed["next_attempt_at"].endswith("Z") and "payload" not in listed
    token = make_token(sqlite_url, "viewer", "viewer")
    server = ApiServer(sqlite_url, tmp_path / "serve.log").start()
    try:
        answer = httpx.get(
            f"{server.url}/api/v1/runs/1", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
    finally:
        server.stop()
    assert answer.status_code == 200, answer.text
    [via_api] = answer.json()["notifications"]
    assert via_api == listed
    assert SECRET not in shown.output and "path-secret-4711" not in shown.output + answer.text


def test_housekeeping_removes_old_notifications_but_not_unsent_ones(
    sqlite_url: str, tmp_path: Path
) -> None:
    with webhook_receiver(tmp_path, statuses=[200, 503]) as receiver:
        config = webhook_config(tmp_path, receiver)
        add_command_job(sqlite_url, "sync", ["true"])
        for _ in range(2):  # the first is delivered, the second waits for a retry
            assert run_jobs(sqlite_url, config, "sync").returncode == 0
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:  # both noted 40 days ago
        connection.execute(
            notifications.update().values(created_at=datetime.now(UTC) - timedelta(days=40))
        )
    engine.dispose()
    result = run_director(sqlite_url, "jobs", "execute", "housekeeping")
    assert result.returncode == 0, result.stderr
    assert "1 notifications" in result.stdout + result.stderr
    assert [row["status"] for row in deliveries(sqlite_url)] == ["pending"]


def test_a_sender_leaves_other_channels_alone(sqlite_url: str, tmp_path: Path) -> None:
    """Two hosts with different channels on one database: each sends only its own."""
    with webhook_receiver(tmp_path, statuses=[503, 200]) as receiver:
        config = webhook_config(tmp_path, receiver)
        add_command_job(sqlite_url, "sync", ["true"])
        assert run_jobs(sqlite_url, config, "sync").returncode == 0  # 503: pending
        other = tmp_path / "other"
        other.mkdir()
        with webhook_receiver(other) as second:
            other_config = write_config(
                other,
                f'[[webhook]]\nname = "other"\nurl = "{second.url}"\nca_file = "{second.cert}"\n',
            )
            add_command_job(sqlite_url, "other-job", ["true"])
            assert run_jobs(sqlite_url, other_config, "other-job").returncode == 0
            assert [b["job"] for b in second.bodies()] == ["other-job"]
    rows = {row["channel"]: row for row in deliveries(sqlite_url)}
    assert rows["ops-chat"]["status"] == "pending" and rows["ops-chat"]["attempts"] == 1
    assert rows["other"]["status"] == "delivered"


def test_noting_an_event_twice_keeps_one(db_url: str) -> None:
    """A result stored again after an ambiguous commit notes its events again: ignored."""
    database = Database.open(db_url)
    try:
        now = datetime.now(UTC)
        row = pending_row(1, now)
        for _ in range(2):
            with database.engine.begin() as connection:
                database.notifications.note(connection, [row])
        assert len(database.notifications.for_runs([1])) == 1
    finally:
        database.dispose()


@pytest.mark.parametrize(
    ("table", "shown", "hidden"),
    [
        (
            'url = "http://hooks.example.com/?token=abc-secret"',
            "http://hooks.example.com/…",
            "abc-secret",
        ),
        ('url = "https://hooks.example.com:99999/abc-secret"', "a bad port", "abc-secret"),
        ('url = "https://hooks.example.com/abc-secret x"', "percent-encoded", "abc-secret"),
        ('url = "https://h.example.com/x"\ntimeout = 0', "webhook[0].timeout", ""),
        ('url = "https://h.example.com/x"\ntimeout = "5m"', "up to 60s", ""),
    ],
)
def test_urls_and_timeouts_are_checked_without_showing_secrets(
    sqlite_url: str, tmp_path: Path, table: str, shown: str, hidden: str
) -> None:
    config = write_config(tmp_path, f'[[webhook]]\nname = "chat"\n{table}\n')
    result = run_director(sqlite_url, "status", env={"DIRECTOR_JOBS_CONFIG": str(config)})
    assert result.returncode == exit_codes.CONFIG, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert shown in line
    assert not hidden or hidden not in line


def test_icinga_and_ca_files_are_checked(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "not.pem").write_text("not a certificate\n")
    cases = {
        '[icinga]\nurl = "https://127.0.0.1:5665"\nusername = "u"\npassword = "p"\nhost = "h"\n'
        'on = ["failure"]\n': "unknown key icinga.on",
        f'[[webhook]]\nname = "w"\nurl = "https://h.example.com/x"\n'
        f'ca_file = "{tmp_path / "not.pem"}"\n': "not PEM certificates",
        '[[mail]]\nname = "m"\nto = "a@example.com"\nfrom = "b@example.com"\n'
        'smtp = "mail.example.com:25"\nsecurity = "none"\n'
        'username = "u"\npassword = "p"\n': "only over TLS",
    }
    for body, words in cases.items():
        config = write_config(tmp_path, body)
        result = run_director(sqlite_url, "status", env={"DIRECTOR_JOBS_CONFIG": str(config)})
        assert result.returncode == exit_codes.CONFIG, (body, result.stderr)
        assert words in result.stderr, (body, result.stderr)


def test_sighup_gives_the_daemon_new_channels(
    sqlite_url: str, tmp_path: Path, stop_later: list[subprocess.Popen[bytes]]
) -> None:
    with webhook_receiver(tmp_path) as first:
        config = webhook_config(tmp_path, first)
        daemon = start_daemon(sqlite_url, config, tmp_path / "daemon.log")
        stop_later.append(daemon)
        add_command_job(sqlite_url, "before", ["true"])
        assert invoke(sqlite_url, "jobs", "trigger", "before").exit_code == 0
        wait_for(lambda: first.bodies(), "the first channel's notification")
        later = tmp_path / "later"
        later.mkdir()
        with webhook_receiver(later) as second:
            config.write_text(
                f'[[webhook]]\nname = "new-chat"\nurl = "{second.url}"\nca_file = "{second.cert}"\n'
            )
            daemon.send_signal(signal.SIGHUP)
            wait_for(
                lambda: "configuration reloaded" in (tmp_path / "daemon.log").read_text(),
                "the reload",
            )
            add_command_job(sqlite_url, "after", ["true"])
            assert invoke(sqlite_url, "jobs", "trigger", "after").exit_code == 0
            wait_for(lambda: second.bodies(), "the new channel's notification")
            assert [b["job"] for b in second.bodies()] == ["after"]
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0, (tmp_path / "daemon.log").read_text()
    assert [b["job"] for b in first.bodies()] == ["before"]


def test_two_senders_never_claim_the_same_delivery(db_url: str) -> None:
    database = Database.open(db_url)
    try:
        now = datetime.now(UTC)
        rows = [pending_row(run_id, now) for run_id in range(1, 201)]
        with database.engine.begin() as connection:
            database.notifications.note(connection, rows)
        claimed: dict[str, list[int]] = {"a": [], "b": []}

        def sender(name: str) -> None:
            while batch := database.notifications.claim("c", datetime.now(UTC), name, 7):
                claimed[name] += [delivery.run_id for delivery in batch]

        threads = [threading.Thread(target=sender, args=(name,)) for name in claimed]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not set(claimed["a"]) & set(claimed["b"])
        assert sorted(claimed["a"] + claimed["b"]) == list(range(1, 201))
        assert {d.attempts for d in database.notifications.for_runs(range(1, 201))} == {1}
    finally:
        database.dispose()
