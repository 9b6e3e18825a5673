"""The HTTP API as a client sees it: a real `director serve` on 127.0.0.1, over SQLite and
PostgreSQL, with tokens made by the real CLI; every status code, every role, bad input."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import DIRECTOR, invoke, run_director, wait_for

ROLES = ("viewer", "operator", "admin")
SECRET_VALUE = "hunter2-is-not-a-password"


@dataclass
class Served:
    """A running server over its own database, with a token per role."""

    server: ApiServer
    database_url: str
    tokens: dict[str, str]
    tmp: Path

    def client(self, role: str | None = "admin") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=f"{self.server.url}/api/v1", headers=headers, timeout=60)


def add_job(url: str, name: str, *options: str) -> None:
    added = invoke(url, "jobs", "add", name, *options)
    assert added.exit_code == 0, added.output


def define_jobs(url: str) -> None:
    """The jobs every test of this module may read (tests that change state add their own)."""
    add_job(url, "alpha", "--type", "self-check", "--interval", "1h", "--tag", "nightly",
            "--description", "first job")  # fmt: skip
    add_job(
        url, "beta", "--type", "command", "--interval", "1d",
        "--parameters", json.dumps({"command": "true", "env": {"API_PASSWORD": SECRET_VALUE}}),
    )  # fmt: skip
    added = invoke(url, "timeperiods", "add", "office", "--range", "monday=09:00-17:00")
    assert added.exit_code == 0, added.output


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    define_jobs(url)
    tokens: dict[str | None, str] = {role: make_token(url, role, role) for role in ROLES}
    server = ApiServer(url, tmp / "serve.log").start()
    yield Served(server, url, tokens, tmp)  # type: ignore[arg-type]
    server.stop()
    log = server.log()
    for secret in [*tokens.values(), SECRET_VALUE]:
        assert secret not in log, "a secret reached the server's log"


def json_of(url: str, *args: str) -> Any:
    result = invoke(url, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def error_of(response: httpx.Response, status: int, code: str, field: str | None) -> str:
    """Assert the error shape and return its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert (error["code"], error["field"]) == (code, field), error
    assert "\n" not in error["message"]
    return str(error["message"])


# -- reading -------------------------------------------------------------------------------


def test_jobs_list_has_schedule_next_start_last_run_and_running(served: Served) -> None:
    with served.client("viewer") as client:
        response = client.get("/jobs")
    assert response.status_code == 200
    jobs = {job["name"]: job for job in response.json()["jobs"]}
    assert {"alpha", "beta"} <= set(jobs)
    alpha = jobs["alpha"]
    assert alpha["interval"] == 3600 and alpha["tags"] == ["nightly"]
    assert alpha["running"] is False and alpha["next_start"] is not None
    assert jobs["beta"]["parameters"]["env"]["API_PASSWORD"] == "***"
    assert SECRET_VALUE not in response.text


def test_jobs_list_filters(served: Served) -> None:
    with served.client("viewer") as client:
        by_tag = client.get("/jobs", params={"tag": "nightly"}).json()["jobs"]
        by_type = client.get("/jobs", params={"type": "command"}).json()["jobs"]
        enabled = client.get("/jobs", params={"disabled": "false"}).json()["jobs"]
    assert [j["name"] for j in by_tag] == ["alpha"]
    assert "beta" in [j["name"] for j in by_type] and "alpha" not in [j["name"] for j in by_type]
    assert all(not j["disabled"] for j in enabled)


def test_last_run_and_status_filter_after_a_real_run(served: Served) -> None:
    add_job(served.database_url, "ran-once", "--type", "self-check", "--interval", "1h")
    ran = run_director(served.database_url, "jobs", "run", "ran-once")
    assert ran.returncode == 0, ran.stderr
    with served.client("viewer") as client:
        job = client.get("/jobs/ran-once").json()
        succeeded = client.get("/jobs", params={"status": "success"}).json()["jobs"]
        runs = client.get("/runs", params={"job": "ran-once"}).json()
    assert job["last_run"]["status"] == "success" and job["last_run"]["duration"] >= 0
    assert job["recent_runs"][0]["id"] == job["last_run"]["id"]
    assert "ran-once" in [j["name"] for j in succeeded]
    [run] = runs["runs"]
    assert runs["next_cursor"] is None
    with served.client("viewer") as client:
        one = client.get(f"/runs/{run['id']}").json()
        log = client.get(f"/runs/{run['id']}/log").json()
    assert one == {**run, "notifications": []}  # the listing leaves out how notifications went
    assert log["status"] == "success" and "Test output in INFO level" in log["output"]


def test_one_job_shows_effective_parameters_with_secrets_masked(served: Served) -> None:
    with served.client("viewer") as client:
        response = client.get("/jobs/beta")
    assert response.status_code == 200
    body = response.json()
    assert body["effective_parameters"]["command"] == "true"
    assert body["effective_parameters"]["env"]["API_PASSWORD"] == "***"
    assert SECRET_VALUE not in response.text


def test_runs_are_paged_newest_first_with_a_cursor(served: Served) -> None:
    add_job(served.database_url, "paged", "--type", "self-check", "--interval", "1s")
    for _ in range(5):
        ran = run_director(served.database_url, "jobs", "run", "paged", "--force")
        assert ran.returncode == 0, ran.stderr
    seen: list[int] = []
    cursor = None
    with served.client("viewer") as client:
        for _ in range(10):
            params = {"job": "paged", "limit": "2", **({"cursor": cursor} if cursor else {})}
            page = client.get("/runs", params=params).json()
            seen += [run["id"] for run in page["runs"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)


def test_a_deleted_jobs_runs_stay_listed(served: Served) -> None:
    add_job(served.database_url, "gone", "--type", "self-check", "--interval", "1h")
    ran = run_director(served.database_url, "jobs", "run", "gone", "--force")
    assert ran.returncode == 0, ran.stderr
    deleted = invoke(served.database_url, "jobs", "delete", "gone")
    assert deleted.exit_code == 0, deleted.output
    with served.client("viewer") as client:
        page = client.get("/runs", params={"job": "gone"})
        job = client.get("/jobs/gone")
    assert page.status_code == 200
    assert [run["job"] for run in page.json()["runs"]] == ["gone"]
    error_of(job, 404, "NOT_FOUND", "job")


def test_time_periods_and_their_windows(served: Served) -> None:
    with served.client("viewer") as client:
        listed = client.get("/timeperiods").json()["timeperiods"]
        # 2026-12-07 is a Monday.
        windows = client.get(
            "/timeperiods/office/windows",
            params={"from": "2026-12-07T00:00:00Z", "to": "2026-12-15T00:00:00Z"},
        )
    [office] = [p for p in listed if p["name"] == "office"]
    assert office["ranges"] == {"monday": "09:00-17:00"} and isinstance(office["active"], bool)
    assert windows.status_code == 200
    assert windows.json()["windows"] == [
        {"begin": "2026-12-07T09:00:00Z", "end": "2026-12-07T17:00:00Z"},
        {"begin": "2026-12-14T09:00:00Z", "end": "2026-12-14T17:00:00Z"},
    ]


def test_health_needs_no_token_and_says_why_it_is_degraded(served: Served) -> None:
    with served.client(None) as client:
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["database_reachable"] is True
    assert body["reasons"] == ["no runner alive (no heartbeat in the last 35 s)"]


def test_openapi_and_docs_come_from_the_package(served: Served) -> None:
    with served.client(None) as client:
        spec = client.get("/openapi.json")
        page = client.get("/docs")
        script = client.get("/docs/assets/swagger-ui-bundle.js")
        elsewhere = client.get("/docs/assets/..%2F..%2Fapi%2Fapp.py")
    assert spec.status_code == 200
    assert "/api/v1/jobs/{name}/trigger" in spec.json()["paths"]
    assert page.status_code == 200 and "/api/v1/docs/assets/swagger-ui-bundle.js" in page.text
    assert not re.search(r"https?://", page.text.split("<body>")[1].split("SwaggerUIBundle")[0])
    assert "cdn" not in page.text
    assert script.status_code == 200 and len(script.content) > 100_000
    assert elsewhere.status_code == 404


# -- changing ------------------------------------------------------------------------------


def test_trigger_makes_the_job_due_now_and_an_unknown_job_is_404(served: Served) -> None:
    add_job(served.database_url, "later", "--type", "self-check", "--cron", "0 3 1 1 *")
    with served.client("operator") as client:
        response = client.post("/jobs/later/trigger")
        unknown = client.post("/jobs/no-such-job/trigger")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["queued"] is False
    job = json_of(served.database_url, "jobs", "show", "later")
    assert job["next_due"] == body["job"]["next_due"]
    assert job["next_due"] < "2027-01-01"
    assert "no-such-job" in error_of(unknown, 404, "NOT_FOUND", "job")


def test_disable_and_enable(served: Served) -> None:
    add_job(served.database_url, "toggled", "--type", "self-check", "--interval", "1h")
    with served.client("operator") as client:
        disabled = client.post("/jobs/toggled/disable")
        refused = client.post("/jobs/toggled/trigger")
        enabled = client.post("/jobs/toggled/enable")
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert "disabled" in error_of(refused, 422, "INVALID_INPUT", "name")
    assert enabled.status_code == 200 and enabled.json()["disabled"] is False
    assert json_of(served.database_url, "jobs", "show", "toggled")["disabled"] is False


def test_a_running_job_is_409_unless_queued_and_sunbird_says_400(served: Served) -> None:
    marker = served.tmp / "long-started"
    script = f"touch {marker}; sleep 300"
    add_job(
        served.database_url, "long", "--type", "command", "--interval", "1d",
        "--parameters", json.dumps({"command": script, "shell": True}),
    )  # fmt: skip
    env = {"DIRECTOR_JOBS_DATABASE_URL": served.database_url, "TZ": "UTC"}
    runner = subprocess.Popen(
        [*DIRECTOR, "jobs", "run", "long"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(marker.exists, "the long job to start")
        with served.client("admin") as client:
            assert client.get("/jobs/long").json()["running"] is True
            health = client.get("/health")
            conflict = client.post("/jobs/long/trigger")
            sunbird = client.post("/backgroundtasks/trigger/long")
            queued = client.post("/jobs/long/trigger", params={"queue": "true"})
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert "long" in error_of(conflict, 409, "JOB_ALREADY_RUNNING", "job")
        assert sunbird.status_code == 400
        assert sunbird.json()["params"]["err"] == "JOB_ALREADY_RUNNING"
        assert sunbird.json()["params"]["status"] == "failure"
        assert queued.status_code == 202 and queued.json()["queued"] is True
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.communicate(timeout=120)
    # The queued trigger was kept: the job is due again at once (not in a day), once more.
    job = json_of(served.database_url, "jobs", "show", "long")
    assert job["running_on"] is None
    due = datetime.fromisoformat(job["next_due"])
    assert due < datetime.now(UTC) + timedelta(hours=1), job


# -- who may do what -----------------------------------------------------------------------

# (method, path, the least role that may, the status it then gets). {job} is a fresh job.
ACTIONS = [
    ("GET", "/jobs", "viewer", 200),
    ("GET", "/jobs/{job}", "viewer", 200),
    ("GET", "/runs", "viewer", 200),
    ("GET", "/timeperiods", "viewer", 200),
    ("GET", "/timeperiods/office/windows?from=2026-12-07T00:00Z&to=2026-12-08T00:00Z",
     "viewer", 200),
    ("POST", "/jobs/{job}/trigger", "operator", 202),
    ("POST", "/jobs/{job}/disable", "operator", 200),
    ("POST", "/jobs/{job}/enable", "operator", 200),
]  # fmt: skip
_cells = iter(range(10_000))


@pytest.mark.parametrize("role", [None, *ROLES])
@pytest.mark.parametrize(("method", "path", "least", "status"), ACTIONS)
def test_role_action_table(
    served: Served, role: str | None, method: str, path: str, least: str, status: int
) -> None:
    name = f"cell-{next(_cells)}"
    add_job(served.database_url, name, "--type", "self-check", "--interval", "1h")
    before = json_of(served.database_url, "jobs", "show", name)
    with served.client(role) as client:
        response = client.request(method, path.format(job=name))
    if role is None:
        error_of(response, 401, "UNAUTHORIZED", None)
        assert response.headers["www-authenticate"] == "Bearer"
    elif ROLES.index(role) < ROLES.index(least):
        message = error_of(response, 403, "FORBIDDEN", None)
        assert f"has role {role}; this needs {least}" in message
    else:
        assert response.status_code == status, response.text
        return
    after = json_of(served.database_url, "jobs", "show", name)
    assert after == before, "a refused request changed the job"


@pytest.mark.parametrize("role", [None, "viewer", "operator"])
def test_sunbird_endpoints_are_401_for_anyone_but_an_admin(
    served: Served, role: str | None
) -> None:
    with served.client(role) as client:
        listed = client.get("/backgroundtasks")
        triggered = client.post("/backgroundtasks/trigger/alpha")
    for response in (listed, triggered):
        assert response.status_code == 401
        assert response.json()["params"]["err"] == "UNAUTHORIZED"
        assert response.json()["responseCode"] == "UNAUTHORIZED"


# -- the Sunbird envelope ------------------------------------------------------------------

SUNBIRD_TS = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}[+-]\d{4}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def assert_envelope(body: dict[str, Any], api_id: str, err: str | None) -> None:
    assert list(body) == ["id", "ver", "ts", "params", "responseCode", "result"]
    assert body["id"] == api_id and body["ver"] == "v1"
    assert SUNBIRD_TS.fullmatch(body["ts"]), body["ts"]
    params = body["params"]
    assert list(params) == ["resmsgid", "msgid", "err", "status", "errmsg"]
    assert params["resmsgid"] is None and UUID.fullmatch(params["msgid"])
    assert params["err"] == err
    assert params["status"] == ("success" if err is None else "failure")
    assert (params["errmsg"] is None) == (err is None)


def test_sunbird_list_and_trigger(served: Served) -> None:
    add_job(served.database_url, "sunbird-job", "--type", "self-check", "--cron", "0 3 1 1 *")
    with served.client("admin") as client:
        listed = client.get("/backgroundtasks")
        triggered = client.post("/backgroundtasks/trigger/sunbird-job")
        unknown = client.post("/backgroundtasks/trigger/no-such-task")
    assert listed.status_code == 200
    assert_envelope(listed.json(), "api.backgroundtasks.read", None)
    assert listed.json()["responseCode"] == "OK"
    tasks = {t["taskName"]: t for t in listed.json()["result"]["response"]}
    assert tasks["alpha"] == {"taskGroup": "nightly", "taskName": "alpha",
                              "description": "first job"}  # fmt: skip
    assert tasks["beta"]["taskGroup"] == "default"
    assert triggered.status_code == 200
    assert_envelope(triggered.json(), "api.backgroundtasks.trigger", None)
    assert triggered.json()["result"] == {"response": "SUCCESS"}
    assert json_of(served.database_url, "jobs", "show", "sunbird-job")["next_due"] < "2027"
    assert unknown.status_code == 404
    assert_envelope(unknown.json(), "api.backgroundtasks.trigger", "RESOURCE_NOT_FOUND")


# -- bad input -----------------------------------------------------------------------------

BAD_QUERIES = [
    ("/runs?limit=abc", "limit"),
    ("/runs?limit=0", "limit"),
    ("/runs?limit=1001", "limit"),
    ("/runs?cursor=abc", "cursor"),
    ("/runs?status=exploded", "status"),
    ("/runs?since=yesterday", "since"),
    ("/runs?since=2026-12-03T08:00:00", "since"),  # no offset: ambiguous
    ("/runs?job=bad%20name", "job"),
    ("/runs/abc", "run_id"),
    ("/jobs?disabled=maybe", "disabled"),
    ("/jobs?status=exploded", "status"),
    ("/jobs/na%20me", "name"),
    ("/timeperiods/office/windows?from=2026-12-08T00:00Z&to=2026-12-07T00:00Z", "to"),
    ("/timeperiods/office/windows?from=2026-01-01T00:00Z&to=2027-06-01T00:00Z", "to"),
    ("/timeperiods/office/windows?to=2026-12-07T00:00Z", "from"),
]


@pytest.mark.parametrize(("path", "field"), BAD_QUERIES)
def test_bad_query_values_are_422_naming_the_field(served: Served, path: str, field: str) -> None:
    with served.client("viewer") as client:
        response = client.get(path)
    message = error_of(response, 422, "INVALID_INPUT", field)
    assert message.startswith(f"{field}:")


@pytest.mark.parametrize(
    ("path", "field"),
    [("/jobs/no-such-job", "job"), ("/runs/999999", "run"), ("/runs?job=no-such-job", "job"),
     ("/timeperiods/nowhere/windows?from=2026-12-07T00:00Z&to=2026-12-08T00:00Z",
      "timeperiod"),
     ("/jobs/..%2F..%2Fetc%2Fpasswd", "path"), ("/no/such/endpoint", "path")],
)  # fmt: skip
def test_unknown_things_are_404_naming_what(served: Served, path: str, field: str) -> None:
    with served.client("viewer") as client:
        response = client.get(path)
    error_of(response, 404, "NOT_FOUND", field)


def snapshot(url: str) -> Any:
    return (
        json_of(url, "jobs", "list"),
        json_of(url, "jobs", "history", "--limit", "1000"),
        [
            {k: v for k, v in t.items() if k != "last_used_at"}
            for t in json_of(url, "tokens", "list")
        ],
    )


def test_refused_requests_write_nothing(served: Served) -> None:
    before = snapshot(served.database_url)
    token = served.tokens["admin"]
    with served.client("admin") as client:
        query_token = client.get(f"/jobs?token={token}")
        huge = client.post("/jobs/alpha/trigger", content=b"{" + b" " * 100_000 + b"}",
                           headers={"content-type": "application/json"})  # fmt: skip
        chunked = client.post(
            "/jobs/alpha/trigger", content=iter([b"{}"]),
            headers={"content-type": "application/json"},
        )  # fmt: skip
        wrong_method = client.delete("/jobs/alpha/trigger")
        bad_name = client.post("/jobs/bad%20name/trigger")
    assert "URL" in error_of(query_token, 400, "TOKEN_IN_QUERY", "token")
    assert "100002 bytes" in error_of(huge, 413, "PAYLOAD_TOO_LARGE", "body")
    error_of(chunked, 411, "LENGTH_REQUIRED", "body")
    error_of(wrong_method, 405, "METHOD_NOT_ALLOWED", "method")
    error_of(bad_name, 422, "INVALID_INPUT", "name")
    assert snapshot(served.database_url) == before
    assert token not in served.server.log()


# -- tokens --------------------------------------------------------------------------------


def test_revoked_and_expired_tokens_are_401(served: Served) -> None:
    revoked = make_token(served.database_url, "to-revoke", "viewer")
    expiring = make_token(served.database_url, "short-lived", "viewer", "--expires", "1s")
    lasting = make_token(served.database_url, "long-lived", "viewer", "--expires", "90d")

    def status_with(token: str) -> httpx.Response:
        return httpx.get(f"{served.server.url}/api/v1/jobs",
                         headers={"Authorization": f"Bearer {token}"}, timeout=60)  # fmt: skip

    assert status_with(revoked).status_code == 200
    assert invoke(served.database_url, "tokens", "revoke", "to-revoke").exit_code == 0
    assert "was revoked" in error_of(status_with(revoked), 401, "UNAUTHORIZED", None)
    expired = wait_for(
        lambda: (r := status_with(expiring)).status_code == 401 and r, "the token to expire"
    )
    assert "has expired" in error_of(expired, 401, "UNAUTHORIZED", None)
    assert status_with(lasting).status_code == 200
    unknown = status_with("djt_" + "x" * 43)
    assert error_of(unknown, 401, "UNAUTHORIZED", None) == "unknown token"
    listed = {t["name"]: t for t in json_of(served.database_url, "tokens", "list")}
    assert listed["to-revoke"]["state"] == "revoked"
    assert listed["short-lived"]["state"] == "expired"
    assert listed["long-lived"]["state"] == "active" and listed["long-lived"]["last_used_at"]
