"""Triggers that queue a run: the run exists (`pending`) as soon as the trigger is
accepted, may carry parameters for that run only, joins a second trigger with the same
parameters, and can be cancelled before it starts."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import DIRECTOR, director_env, invoke, run_director, wait_for

from director_jobs import exit_codes


def echo_job(url: str, name: str, text: str = "default") -> None:
    """A command job that prints its TEXT environment variable."""
    parameters = {"command": 'echo "said $TEXT"', "shell": True, "env": {"TEXT": text}}
    added = invoke(
        url, "jobs", "add", name, "--type", "command", "--parameters", json.dumps(parameters)
    )
    assert added.exit_code == 0, added.output


def runs_of(url: str, name: str) -> list[dict[str, Any]]:
    """The job's runs, newest first, as `jobs history --json --output` shows them."""
    shown = invoke(url, "jobs", "history", name, "--json", "--output")
    assert shown.exit_code == 0, shown.output
    found: list[dict[str, Any]] = json.loads(shown.stdout)
    return found


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[ApiServer]:
    api = ApiServer(db_url, tmp_path / "serve.log").start()
    yield api
    api.stop()


@pytest.fixture
def operator(db_url: str) -> dict[str, str]:
    """Headers with an operator's token."""
    return {"Authorization": f"Bearer {make_token(db_url, 'ops', 'operator')}"}


def trigger(server: ApiServer, headers: dict[str, str], name: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/jobs/{name}/trigger", headers=headers, timeout=60, **kwargs
    )


def test_a_trigger_with_parameters_queues_a_run_that_uses_them_once(
    db_url: str, server: ApiServer, operator: dict[str, str]
) -> None:
    echo_job(db_url, "greet")

    answer = trigger(server, operator, "greet", json={"parameters": {"env": {"TEXT": "hi"}}})

    assert answer.status_code == 202, answer.text
    body = answer.json()
    run = body["run"]
    assert (run["status"], run["trigger"], run["started_at"]) == ("pending", "manual", None)
    assert run["parameters"] == {"env": {"TEXT": "hi"}}
    assert (body["queued"], body["joined"]) == (False, False)
    listed = httpx.get(f"{server.url}/api/v1/runs/{run['id']}", headers=operator).json()
    assert listed["status"] == "pending"

    assert run_director(db_url, "jobs", "run").returncode == 0
    assert run_director(db_url, "jobs", "trigger", "greet").returncode == 0
    assert run_director(db_url, "jobs", "run").returncode == 0

    second, first = runs_of(db_url, "greet")
    assert (first["id"], first["status"]) == (run["id"], "success")
    assert "said hi" in first["output"]
    assert first["parameters"] == {"env": {"TEXT": "hi"}}
    assert "said default" in second["output"]  # the override was for that run only
    assert second["parameters"] is None


def test_a_second_trigger_joins_the_queued_run_or_is_refused_with_other_parameters(
    db_url: str, server: ApiServer, operator: dict[str, str]
) -> None:
    echo_job(db_url, "greet")
    same = {"json": {"parameters": {"env": {"TEXT": "hi"}}}}
    first = trigger(server, operator, "greet", **same)
    again = trigger(server, operator, "greet", **same)
    other = trigger(server, operator, "greet", json={"parameters": {"env": {"TEXT": "ho"}}})
    plain = trigger(server, operator, "greet")

    assert first.status_code == again.status_code == 202
    assert again.json()["run"]["id"] == first.json()["run"]["id"]
    assert again.json()["joined"] is True
    for refused in (other, plain):
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["field"]) == ("TRIGGER_PENDING", "parameters")
        assert f"run {first.json()['run']['id']} of 'greet' is queued" in error["message"]

    assert run_director(db_url, "jobs", "run").returncode == 0
    assert [r["status"] for r in runs_of(db_url, "greet")] == ["success"]  # once


def test_bad_trigger_bodies_are_refused_naming_the_field_and_write_nothing(
    db_url: str, server: ApiServer, operator: dict[str, str]
) -> None:
    echo_job(db_url, "greet")
    cases = [
        ({"content": b'{"parameters": {', "headers": {"Content-Type": "application/json"}}, "body"),
        ({"json": {"parameters": "loud"}}, "parameters"),
        ({"json": {"params": {}}}, "params"),
        ({"json": {"parameters": {"command": 5}}}, "parameters.command"),
        ({"json": {"parameters": {"nosuch": 1}}}, "parameters.nosuch"),
        ({"json": {"parameters": {"env": {"A": 1}}}}, "parameters.env.A"),
    ]
    for request, field in cases:
        headers = {**operator, **request.pop("headers", {})}
        answer = trigger(server, headers, "greet", **request)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["error"]["field"] == field, answer.text
        assert field in answer.json()["error"]["message"]

    assert runs_of(db_url, "greet") == []
    shown = json.loads(invoke(db_url, "jobs", "show", "greet", "--json").stdout)
    assert shown["next_start"] is None  # no trigger was stored
    activity = json.loads(invoke(db_url, "activity", "--json").stdout)
    assert [e["action"] for e in activity if e["kind"] == "job"] == ["created"]


def test_a_queued_run_is_cancelled_by_a_stop_and_the_job_is_not_due_any_more(
    db_url: str, server: ApiServer, operator: dict[str, str]
) -> None:
    echo_job(db_url, "greet")
    run_id = trigger(server, operator, "greet").json()["run"]["id"]

    stopped = httpx.post(f"{server.url}/api/v1/runs/{run_id}/stop", headers=operator)

    assert stopped.status_code == 202, stopped.text
    run = stopped.json()["run"]
    assert (run["status"], run["stopped_by"]) == ("stopped", "api:ops")
    assert run["error"] == "cancelled by api:ops before it started"
    assert run_director(db_url, "jobs", "run").returncode == 0
    assert [r["status"] for r in runs_of(db_url, "greet")] == ["stopped"]  # it did not run
    again = httpx.post(f"{server.url}/api/v1/runs/{run_id}/stop", headers=operator)
    assert again.status_code == 409
    activity = json.loads(invoke(db_url, "activity", "--json").stdout)
    assert ("cancelled", "run", str(run_id), "api:ops") in {
        (e["action"], e["kind"], e["name"], e["actor"]) for e in activity
    }


def test_the_cli_triggers_with_parameters_and_cancels_a_queued_run(sqlite_url: str) -> None:
    echo_job(sqlite_url, "greet")
    echo_job(sqlite_url, "other")

    queued = run_director(
        sqlite_url, "jobs", "trigger", "greet", "--parameters", '{"env": {"TEXT": "cli"}}'
    )
    bad = run_director(sqlite_url, "jobs", "trigger", "greet", "--parameters", '{"env": 3}')
    assert run_director(sqlite_url, "jobs", "trigger", "other").returncode == 0
    cancelled = run_director(sqlite_url, "jobs", "stop", "other")
    assert run_director(sqlite_url, "jobs", "run").returncode == 0

    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.startswith("queued run 1 of greet;")
    assert bad.returncode == exit_codes.USAGE
    assert "parameters.env" in bad.stderr
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == "cancelled run 2 of other (queued, it had not started)"
    assert "said cli" in runs_of(sqlite_url, "greet")[0]["output"]
    assert [r["status"] for r in runs_of(sqlite_url, "other")] == ["stopped"]


def test_deleting_a_job_ends_its_queued_run(sqlite_url: str) -> None:
    echo_job(sqlite_url, "greet")
    assert run_director(sqlite_url, "jobs", "trigger", "greet").returncode == 0

    assert run_director(sqlite_url, "jobs", "delete", "greet").returncode == 0

    [run] = json.loads(invoke(sqlite_url, "jobs", "history", "--json").stdout)
    assert run["status"] == "stopped"
    assert run["error"].startswith("the job was deleted by cli:")


def test_triggers_while_the_job_runs_queue_one_more_run_with_their_parameters(
    db_url: str, tmp_path: Path, server: ApiServer, operator: dict[str, str]
) -> None:
    gate = tmp_path / "gate"
    script = f'echo "said $TEXT"; while [ ! -e {gate} ]; do sleep 0.1; done'
    parameters = {"command": script, "shell": True, "env": {"TEXT": "first"}}
    added = invoke(
        db_url, "jobs", "add", "slow", "--type", "command", "--parameters", json.dumps(parameters)
    )
    assert added.exit_code == 0, added.output
    daemon = subprocess.Popen(
        [*DIRECTOR, "jobs", "run", "--forever"],
        env=director_env(db_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        first = trigger(server, operator, "slow").json()["run"]["id"]
        wait_for(lambda: runs_of(db_url, "slow")[-1]["status"] == "running", "the first run")
        refused = trigger(server, operator, "slow")
        extra = {"params": {"queue": "true"}, "json": {"parameters": {"env": {"TEXT": "next"}}}}
        queued = trigger(server, operator, "slow", **extra)
        joined = trigger(server, operator, "slow", **extra)
        gate.touch()
        wait_for(
            lambda: [r["status"] for r in runs_of(db_url, "slow")] == ["success", "success"],
            "the queued run to end",
            seconds=120,
        )
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=120)

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "JOB_ALREADY_RUNNING"
    assert queued.status_code == 202 and queued.json()["queued"] is True
    assert joined.json()["joined"] is True
    assert joined.json()["run"]["id"] == queued.json()["run"]["id"] != first
    newest = runs_of(db_url, "slow")[0]
    assert newest["id"] == queued.json()["run"]["id"]
    assert "said next" in newest["output"]


def test_trigger_parameters_with_secrets_are_masked_in_answers_and_the_activity_log(
    sqlite_url: str, tmp_path: Path
) -> None:
    echo_job(sqlite_url, "greet")
    token = make_token(sqlite_url, "ops", "operator")
    api = ApiServer(sqlite_url, tmp_path / "serve.log").start()
    try:
        answer = trigger(
            api,
            {"Authorization": f"Bearer {token}"},
            "greet",
            json={"parameters": {"env": {"DB_PASSWORD": "hunter2-secret"}}},
        )
    finally:
        api.stop()
    assert answer.status_code == 202, answer.text
    assert "hunter2-secret" not in answer.text
    activity = invoke(sqlite_url, "activity", "--json").stdout
    history = invoke(sqlite_url, "jobs", "history", "greet", "--json").stdout
    assert "hunter2-secret" not in activity + history + api.log()


def test_a_sunbird_trigger_while_a_run_with_other_parameters_waits_is_a_400(
    sqlite_url: str, tmp_path: Path
) -> None:
    echo_job(sqlite_url, "greet")
    admin = {"Authorization": f"Bearer {make_token(sqlite_url, 'root', 'admin')}"}
    api = ApiServer(sqlite_url, tmp_path / "serve.log").start()
    try:
        first = trigger(api, admin, "greet", json={"parameters": {"env": {"TEXT": "x"}}})
        sunbird = httpx.post(f"{api.url}/api/v1/backgroundtasks/trigger/greet", headers=admin)
    finally:
        api.stop()
    assert first.status_code == 202
    assert sunbird.status_code == 400
    params = sunbird.json()["params"]
    assert (params["err"], params["status"]) == ("JOB_ALREADY_QUEUED", "failure")


def test_disabling_or_pruning_a_job_ends_its_queued_run_and_a_cancel_is_no_last_run(
    sqlite_url: str, tmp_path: Path
) -> None:
    echo_job(sqlite_url, "off")
    broken = {"command": "false"}
    added = invoke(
        sqlite_url, "jobs", "add", "flaky", "--type", "command", "--parameters", json.dumps(broken)
    )
    assert added.exit_code == 0, added.output
    assert run_director(sqlite_url, "jobs", "run", "flaky").returncode == exit_codes.JOB_FAILED
    for name in ("off", "flaky"):
        assert run_director(sqlite_url, "jobs", "trigger", name).returncode == 0

    assert run_director(sqlite_url, "jobs", "disable", "off").returncode == 0
    assert run_director(sqlite_url, "jobs", "stop", "flaky").returncode == 0  # cancels it

    [ended] = runs_of(sqlite_url, "off")
    assert ended["status"] == "stopped"
    assert ended["error"].startswith("the job was disabled by cli:")
    listed = {j["name"]: j for j in json.loads(invoke(sqlite_url, "jobs", "list", "--json").stdout)}
    assert listed["flaky"]["last_run"]["status"] == "error"  # not the cancelled queued run
    assert listed["off"]["next_due"] is None  # no schedule, and the trigger is gone

    file = tmp_path / "jobs.toml"
    file.write_text('[jobs.kept]\ntype = "self-check"\n')
    assert run_director(sqlite_url, "jobs", "trigger", "flaky").returncode == 0
    pruned = run_director(sqlite_url, "apply", str(file), "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert runs_of(sqlite_url, "flaky")[0]["status"] == "stopped"
