"""POST, PUT and DELETE /api/v1/jobs/{name} as an admin's script sees them: a real
`director serve` over SQLite and PostgreSQL, tokens made by the real CLI, the messages of
`director jobs add`, and nothing written when a request is refused."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from itertools import count
from typing import Any

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import DIRECTOR, director_env, invoke, wait_for
from test_api import Served, error_of, json_of

# Token names differ from the role names: the activity log must name the token.
TOKEN_NAMES = {"viewer": "dashboard", "operator": "ci", "admin": "deployer"}
SECRET_VALUE = "correct-horse-battery-staple"
# Keys of GET /jobs/{name} that the answers of POST and PUT (a job as GET /jobs shows it) lack.
DETAIL_ONLY = ("effective_parameters", "recent_runs", "notifications")
_fresh = count()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"api-definitions-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    added = invoke(url, "timeperiods", "add", "office", "--range", "monday=09:00-17:00")
    assert added.exit_code == 0, added.output
    tokens = {role: make_token(url, name, role) for role, name in TOKEN_NAMES.items()}
    server = ApiServer(url, tmp / "serve.log").start()
    yield Served(server, url, tokens, tmp)
    server.stop()
    log = server.log()
    for secret in [*tokens.values(), SECRET_VALUE]:
        assert secret not in log, "a secret reached the server's log"


def fresh_name(prefix: str) -> str:
    """A job name no other test of the module uses."""
    return f"{prefix}-{next(_fresh)}"


def add_job(url: str, name: str, *options: str) -> None:
    added = invoke(url, "jobs", "add", name, *options)
    assert added.exit_code == 0, added.output


def stored(url: str) -> Any:
    """What a refused request must leave alone: every job (with its state) and the log."""
    return json_of(url, "jobs", "list"), json_of(url, "activity", "--limit", "1000")


def activity_of(served: Served, name: str) -> list[dict[str, Any]]:
    """The API's activity entries about job `name`, newest first."""
    with served.client("viewer") as client:
        response = client.get("/activity", params={"limit": "1000"})
    assert response.status_code == 200, response.text
    entries = response.json()["activity"]
    return [e for e in entries if (e["kind"], e["name"]) == ("job", name)]


def as_listed(job: dict[str, Any]) -> dict[str, Any]:
    """GET /jobs/{name} without its detail-only keys: the shape POST and PUT answer with."""
    return {key: value for key, value in job.items() if key not in DETAIL_ONLY}


def cli_error(url: str, *args: str) -> str:
    """The message `director ARGS` fails with (after `director: error: `)."""
    result = invoke(url, *args)
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("director: error: ")]
    assert lines, result.output
    return lines[-1].removeprefix("director: error: ")


# -- create --------------------------------------------------------------------------------


def test_create_is_201_with_the_job_and_get_shows_it(served: Served) -> None:
    name = fresh_name("created")
    body = {
        "type": "command",
        "parameters": {"command": "true", "env": {"API_PASSWORD": SECRET_VALUE}},
        "interval": "15m",
        "timeout": 90,
        "retries": 2,
        "retry_delay": "0",
        "memory_limit": 256,
        "description": "made over HTTP",
        "tags": ["nightly", "api"],
        "confirm": True,
    }
    with served.client("admin") as client:
        created = client.post(f"/jobs/{name}", json=body)
        shown = client.get(f"/jobs/{name}")
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["name"] == name and job["type"] == "command"
    assert (job["interval"], job["timeout"], job["retries"], job["retry_delay"]) == (900, 90, 2, 0)
    assert (job["memory_limit"], job["tags"], job["confirm"]) == (256, ["nightly", "api"], True)
    assert job["disabled"] is False and job["cron"] is None and job["running"] is False
    assert job["parameters"]["env"]["API_PASSWORD"] == "***"
    assert SECRET_VALUE not in created.text
    assert shown.status_code == 200 and as_listed(shown.json()) == job
    assert json_of(served.database_url, "jobs", "show", name)["description"] == "made over HTTP"


def test_only_the_type_is_required_and_the_rest_takes_the_defaults_of_jobs_add(
    served: Served,
) -> None:
    by_cli, by_api = fresh_name("defaults-cli"), fresh_name("defaults-api")
    add_job(served.database_url, by_cli, "--type", "self-check")
    with served.client("admin") as client:
        created = client.post(f"/jobs/{by_api}", json={"type": "self-check"})
    assert created.status_code == 201, created.text
    definition_keys = ("type", "description", "parameters", "interval", "cron", "timezone",
                       "timeperiod", "disabled", "timeout", "retries", "retry_delay", "tags",
                       "confirm", "memory_limit")  # fmt: skip
    cli_job = json_of(served.database_url, "jobs", "show", by_cli)
    assert {k: created.json()[k] for k in definition_keys} == {
        k: cli_job[k] for k in definition_keys
    }


def test_a_name_that_is_taken_is_409_in_the_words_of_jobs_add(served: Served) -> None:
    name = fresh_name("taken")
    add_job(served.database_url, name, "--type", "self-check", "--interval", "1h")
    before = stored(served.database_url)
    with served.client("admin") as client:
        again = client.post(f"/jobs/{name}", json={"type": "self-check", "interval": "2h"})
    message = error_of(again, 409, "ALREADY_EXISTS", "name")
    assert message == cli_error(served.database_url, "jobs", "add", name, "--type", "self-check")
    assert stored(served.database_url) == before


# -- replace -------------------------------------------------------------------------------


def test_put_replaces_the_whole_definition_and_omitted_fields_take_their_defaults(
    served: Served,
) -> None:
    name = fresh_name("replaced")
    add_job(served.database_url, name, "--type", "self-check", "--cron", "0 3 1 1 *",
            "--retries", "3", "--tag", "old", "--description", "old", "--timeout", "5m",
            "--memory-limit", "100", "--disabled", "--confirm")  # fmt: skip
    before = json_of(served.database_url, "jobs", "show", name)
    body = {"type": "self-check", "cron": "0 3 1 1 *", "description": "new"}
    with served.client("admin") as client:
        replaced = client.put(f"/jobs/{name}", json=body)
        shown = client.get(f"/jobs/{name}")
    assert replaced.status_code == 200, replaced.text
    job = replaced.json()
    assert job["description"] == "new" and job["cron"] == "0 3 1 1 *"
    assert (job["retries"], job["tags"], job["timeout"], job["memory_limit"]) == (0, [], 3600, None)
    assert job["disabled"] is False and job["confirm"] is False
    assert job["next_due"] == before["next_due"], "the schedule did not change, nor its due time"
    assert job["created_at"] == before["created_at"]
    assert as_listed(shown.json()) == job
    [updated, _] = activity_of(served, name)
    assert updated["action"] == "updated" and updated["actor"] == "api:deployer"
    assert (updated["before"]["retries"], updated["after"]["retries"]) == (3, 0)


def test_put_with_another_schedule_moves_the_due_time(served: Served) -> None:
    name = fresh_name("rescheduled")
    add_job(served.database_url, name, "--type", "self-check", "--cron", "0 3 1 1 *",
            "--timezone", "UTC")  # fmt: skip
    before = json_of(served.database_url, "jobs", "show", name)
    body = {"type": "self-check", "cron": "0 4 1 1 *", "timezone": "UTC"}
    with served.client("admin") as client:
        replaced = client.put(f"/jobs/{name}", json=body)
    assert replaced.status_code == 200, replaced.text
    assert before["next_due"].endswith("-01-01T03:00:00Z")
    assert replaced.json()["next_due"].endswith("-01-01T04:00:00Z")


def test_put_of_an_unknown_name_creates_it_201(served: Served) -> None:
    name = fresh_name("put-created")
    with served.client("admin") as client:
        created = client.put(f"/jobs/{name}", json={"type": "self-check", "interval": 3600})
        shown = client.get(f"/jobs/{name}")
    assert created.status_code == 201, created.text
    assert created.json()["interval"] == 3600
    assert shown.status_code == 200 and as_listed(shown.json()) == created.json()
    assert [e["action"] for e in activity_of(served, name)] == ["created"]


# -- delete --------------------------------------------------------------------------------


def test_delete_is_204_then_the_job_is_gone_and_a_second_delete_is_404(served: Served) -> None:
    name = fresh_name("deleted")
    add_job(served.database_url, name, "--type", "self-check", "--interval", "1h")
    with served.client("admin") as client:
        deleted = client.delete(f"/jobs/{name}")
        shown = client.get(f"/jobs/{name}")
        again = client.delete(f"/jobs/{name}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert name in error_of(shown, 404, "NOT_FOUND", "job")
    assert name in error_of(again, 404, "NOT_FOUND", "job")
    assert name not in [job["name"] for job in json_of(served.database_url, "jobs", "list")]


def test_a_running_job_is_not_deleted_409(served: Served) -> None:
    name = fresh_name("busy")
    marker = served.tmp / f"{name}-started"
    add_job(served.database_url, name, "--type", "command", "--interval", "1d",
            "--parameters", json.dumps({"command": f"touch {marker}; sleep 300", "shell": True}),
            )  # fmt: skip
    runner = subprocess.Popen(
        [*DIRECTOR, "jobs", "run", name],
        env=director_env(served.database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(marker.exists, "the job to start")
        before = stored(served.database_url)
        with served.client("admin") as client:
            refused = client.delete(f"/jobs/{name}")
        after = stored(served.database_url)
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.communicate(timeout=120)
    assert "is running on" in error_of(refused, 409, "JOB_ALREADY_RUNNING", "job")
    assert after == before
    assert json_of(served.database_url, "jobs", "show", name)["name"] == name


# -- the activity log ----------------------------------------------------------------------


def test_create_replace_delete_are_logged_with_the_token_name_and_secrets_masked(
    served: Served,
) -> None:
    name = fresh_name("logged")
    body = {"type": "command", "parameters": {"command": "true",
                                              "env": {"API_PASSWORD": SECRET_VALUE}}}  # fmt: skip
    with served.client("admin") as client:
        assert client.post(f"/jobs/{name}", json=body).status_code == 201
        assert client.put(f"/jobs/{name}", json={**body, "retries": 1}).status_code == 200
        assert client.delete(f"/jobs/{name}").status_code == 204
    entries = activity_of(served, name)
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("deleted", "api:deployer"),
        ("updated", "api:deployer"),
        ("created", "api:deployer"),
    ]
    assert entries[2]["after"]["parameters"]["env"]["API_PASSWORD"] == "***"
    assert SECRET_VALUE not in json.dumps(entries)
    cli_view = [e for e in json_of(served.database_url, "activity") if e["name"] == name]
    assert [e["actor"] for e in cli_view] == ["api:deployer"] * 3


# -- who may --------------------------------------------------------------------------------

# method -> the status an admin gets on a job that exists (POST: on a fresh name).
ALLOWED = {"POST": 201, "PUT": 200, "DELETE": 204}


@pytest.mark.parametrize("role", [None, "viewer", "operator", "admin"])
@pytest.mark.parametrize("method", list(ALLOWED))
def test_only_an_admin_may_define_jobs(served: Served, method: str, role: str | None) -> None:
    name = fresh_name("guarded")
    if method != "POST":
        add_job(served.database_url, name, "--type", "self-check", "--interval", "1h")
    before = stored(served.database_url)
    body = None if method == "DELETE" else {"type": "self-check", "interval": "2h"}
    with served.client(role) as client:
        response = client.request(method, f"/jobs/{name}", json=body)
    if role == "admin":
        assert response.status_code == ALLOWED[method], response.text
        return
    if role is None:
        error_of(response, 401, "UNAUTHORIZED", None)
        assert response.headers["www-authenticate"] == "Bearer"
    else:
        assert f"has role {role}; this needs admin" in error_of(response, 403, "FORBIDDEN", None)
    assert stored(served.database_url) == before


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_the_token_is_checked_before_the_body_is_read(served: Served, method: str) -> None:
    with served.client(None) as client:
        anonymous = client.request(method, "/jobs/anything", content=b"{not json")
    with served.client("viewer") as client:
        viewer = client.request(method, "/jobs/anything", content=b"{not json")
    error_of(anonymous, 401, "UNAUTHORIZED", None)
    error_of(viewer, 403, "FORBIDDEN", None)


# -- bad input -----------------------------------------------------------------------------

VALID = {"type": "self-check", "interval": "1h"}
DEEP: Any = "bottom"
for _ in range(40):
    DEEP = [DEEP]

# (what the body is, the field the 422 names). Bytes are sent as they are.
BAD_BODIES: list[tuple[Any, str]] = [
    (b'{"type": "self-check",', "body"),
    (b"", "body"),
    (b"[]", "body"),
    (b'"self-check"', "body"),
    (b'{"parameters": ' + b"[" * 300 + b"]" * 300 + b"}", "body"),
    ({"interval": "1h"}, "type"),
    ({**VALID, "retries": "three"}, "retries"),
    ({**VALID, "retries": True}, "retries"),
    ({**VALID, "retries": 1.5}, "retries"),
    ({**VALID, "retries": -1}, "retries"),
    ({**VALID, "disabled": "yes"}, "disabled"),
    ({**VALID, "type": 7}, "type"),
    ({**VALID, "parameters": "levels=info"}, "parameters"),
    ({**VALID, "parameters": {"levels": "loud"}}, "parameters.levels"),
    ({**VALID, "parameters": {"no-such-parameter": 1}}, "parameters.no-such-parameter"),
    ({**VALID, "parameters": {"message": {"inner": None}}}, "parameters.message.inner"),
    ({**VALID, "parameters": {"message": DEEP}}, "parameters"),
    ({**VALID, "tags": "nightly"}, "tags"),
    ({**VALID, "tags": [1]}, "tags.0"),
    ({**VALID, "tags": ["not a tag"]}, "tags"),
    ({**VALID, "description": "a\u0000b"}, "description"),
    ({**VALID, "colour": "blue"}, "colour"),
    ({**VALID, "name": "another-name"}, "name"),
    ({**VALID, "interval": "soon"}, "interval"),
    ({**VALID, "interval": 0}, "interval"),
    ({**VALID, "interval": "0.5s"}, "interval"),
    ({**VALID, "interval": True}, "interval"),
    ({**VALID, "interval": [60]}, "interval"),
    ({**VALID, "cron": "0 3 * * *"}, "cron"),  # and an interval: one or the other
    ({"type": "self-check", "cron": "61 * * * *"}, "cron"),
    ({"type": "self-check", "cron": "0 0 31 2 *"}, "cron"),
    ({**VALID, "timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({**VALID, "timezone": "../../etc/passwd"}, "timezone"),
    ({**VALID, "timeperiod": "nowhere"}, "timeperiod"),
    ({**VALID, "timeout": None}, "timeout"),
    ({**VALID, "timeout": "0"}, "timeout"),
    ({**VALID, "retry_delay": "-5s"}, "retry_delay"),
    ({**VALID, "memory_limit": -1}, "memory_limit"),
    ({**VALID, "memory_limit": "1G"}, "memory_limit"),
    ({**VALID, "type": "no-such-type"}, "type"),
]


def send(client: httpx.Client, method: str, name: str, body: Any) -> httpx.Response:
    """`body` as JSON, or as raw bytes when it is bytes (with a JSON content type)."""
    if isinstance(body, bytes):
        headers = {"content-type": "application/json"}
        return client.request(method, f"/jobs/{name}", content=body, headers=headers)
    return client.request(method, f"/jobs/{name}", json=body)


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_a_bad_body_is_422_naming_the_field_and_writes_nothing(
    served: Served, method: str, body: Any, field: str
) -> None:
    name = fresh_name("refused")
    if method == "PUT":  # a replacement that would change an existing job
        add_job(served.database_url, name, "--type", "self-check", "--cron", "0 3 1 1 *")
    before = stored(served.database_url)
    with served.client("admin") as client:
        response = send(client, method, name, body)
    message = error_of(response, 422, "INVALID_INPUT", field)
    assert message.startswith(f"{field}:"), message
    assert stored(served.database_url) == before


# (fields of the body beside a valid type, the same definition as `jobs add` options).
SAME_MESSAGES = [
    ({"interval": "soon"}, ["--interval", "soon"]),
    ({"interval": "0.5s"}, ["--interval", "0.5s"]),
    ({"cron": "61 * * * *"}, ["--cron", "61 * * * *"]),
    ({"cron": "0 0 31 2 *"}, ["--cron", "0 0 31 2 *"]),
    ({"timezone": "Mars/Olympus_Mons"}, ["--timezone", "Mars/Olympus_Mons"]),
    ({"timeperiod": "nowhere"}, ["--timeperiod", "nowhere"]),
    ({"timeout": "0"}, ["--timeout", "0"]),
    ({"retries": 1001}, ["--retries", "1001"]),
    ({"tags": ["not a tag"]}, ["--tag", "not a tag"]),
    ({"parameters": {"levels": "loud"}}, ["--parameters", '{"levels": "loud"}']),
    ({"type": "no-such-type"}, ["--type", "no-such-type"]),
]


@pytest.mark.parametrize(("fields", "options"), SAME_MESSAGES)
def test_refusals_use_the_words_of_jobs_add(
    served: Served, fields: dict[str, Any], options: list[str]
) -> None:
    name = fresh_name("worded")
    with served.client("admin") as client:
        response = client.post(f"/jobs/{name}", json={"type": "self-check", **fields})
    field = response.json()["error"]["field"]
    message = error_of(response, 422, "INVALID_INPUT", field)
    cli_options = options if "--type" in options else ["--type", "self-check", *options]
    assert message == cli_error(served.database_url, "jobs", "add", name, *cli_options)


def test_a_body_that_is_not_json_is_415(served: Served) -> None:
    before = stored(served.database_url)
    with served.client("admin") as client:
        form = client.post("/jobs/formed", data={"type": "self-check"})
    message = error_of(form, 415, "UNSUPPORTED_MEDIA_TYPE", None)
    assert "application/json" in message
    assert stored(served.database_url) == before


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize(
    ("path", "status", "field"),
    [("/jobs/..%2Fetc", 404, "path"), ("/jobs/..%2F..%2Fetc%2Fpasswd", 404, "path"),
     ("/jobs/bad%20name", 422, "name"), ("/jobs/" + "x" * 65, 422, "name"),
     ("/jobs/na%00me", 422, "name"), ("/jobs/a%2Fb", 404, "path")],
)  # fmt: skip
def test_a_bad_name_in_the_path_is_refused_and_writes_nothing(
    served: Served, method: str, path: str, status: int, field: str
) -> None:
    before = stored(served.database_url)
    body = None if method == "DELETE" else VALID
    with served.client("admin") as client:
        response = client.request(method, path, json=body)
    error_of(response, status, "NOT_FOUND" if status == 404 else "INVALID_INPUT", field)
    assert stored(served.database_url) == before
