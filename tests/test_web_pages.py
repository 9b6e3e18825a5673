"""The web page as a browser's requests see it: a real `director serve` on 127.0.0.1 over
SQLite and PostgreSQL, real tokens and sessions; access, CSRF, roles, forms, escaping.
(tests/test_web_browser.py drives the same pages in a real Chromium.)"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import invoke, run_director
from web_client import HTML, PageClient, csrf_of, text_of

from director_jobs.clock import FakeClock
from director_jobs.db.database import Database
from director_jobs.services.sessions import IDLE_EXPIRY, LIFETIME, SessionService
from director_jobs.services.tokens import TokenService

ROLES = ("viewer", "operator", "admin")
SECRET_VALUE = "correct-horse-battery-staple"
HOSTILE_OUTPUT = "<script>alert('owned')</script><b>bold</b>"


@dataclass
class Site:
    """A running server over its own database, with a token per role."""

    server: ApiServer
    url: str  # the database's
    tokens: dict[str, str]
    tmp: Path

    def client(self, role: str | None = None) -> PageClient:
        """A browser-like client, logged in as `role` (None: not logged in)."""
        client = PageClient(self.server.url)
        if role is not None:
            assert client.login(self.tokens[role]).status_code == 303
        return client

    def api(self, path: str) -> Any:
        """GET an API path with the admin token; the JSON."""
        headers = {"Authorization": f"Bearer {self.tokens['admin']}"}
        response = httpx.get(f"{self.server.url}/api/v1{path}", headers=headers, timeout=60)
        return response.json()


def add(url: str, *args: str) -> None:
    result = invoke(url, *args)
    assert result.exit_code == 0, result.output


def define(url: str) -> None:
    """The jobs and periods every test of this module may read."""
    add(url, "timeperiods", "add", "office", "--range", "monday=09:00-17:00")
    add(url, "jobs", "add", "alpha", "--type", "self-check", "--interval", "1h",
        "--tag", "nightly", "--description", "the first job", "--timeperiod", "office")  # fmt: skip
    failing = {"command": "echo failing >&2; exit 3", "shell": True}
    add(url, "jobs", "add", "broken", "--type", "command", "--interval", "1d",
        "--parameters", json.dumps(failing))  # fmt: skip
    hostile = {"command": ["printf", HOSTILE_OUTPUT + "\\n\\033[31mred\\033[0m\\n"]}
    add(url, "jobs", "add", "hostile", "--type", "command", "--cron", "30 3 * * *",
        "--timezone", "Europe/Berlin", "--parameters", json.dumps(hostile))  # fmt: skip
    secretive = {"command": "true", "env": {"API_PASSWORD": SECRET_VALUE}}
    add(url, "jobs", "add", "secretive", "--type", "command",
        "--parameters", json.dumps(secretive))  # fmt: skip
    for name in ("alpha", "broken", "hostile"):
        invoke(url, "jobs", "run", name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp(f"web-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    define(url)
    tokens = {role: make_token(url, role, role) for role in ROLES}
    server = ApiServer(url, tmp / "serve.log").start()
    yield Site(server, url, tokens, tmp)
    server.stop()
    log = server.log()
    for secret in [*tokens.values(), SECRET_VALUE]:
        assert secret not in log, "a secret reached the server's log"


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    PageClient.close_all()


def runs_of(site: Site, job: str) -> list[dict[str, Any]]:
    return list(site.api(f"/runs?job={job}&limit=200")["runs"])


# -- access ------------------------------------------------------------------------------


def test_without_a_session_a_browser_goes_to_login_and_a_script_gets_401(site: Site) -> None:
    browser = site.client()
    page = browser.get("/jobs/alpha?before=5")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/jobs/alpha%3Fbefore%3D5"
    assert browser.get("/login").status_code == 200

    script = httpx.get(f"{site.server.url}/jobs/alpha", timeout=60)
    assert script.status_code == 401
    assert script.json()["error"]["code"] == "UNAUTHORIZED"

    before = len(runs_of(site, "alpha"))
    refused = httpx.post(f"{site.server.url}/jobs/alpha/trigger", timeout=60)
    assert refused.status_code == 401
    assert len(runs_of(site, "alpha")) == before


def test_a_bad_token_is_refused_at_login_and_sets_no_cookie(site: Site) -> None:
    browser = site.client()
    typed = "djt_" + "x" * 43
    response = browser.login(typed)
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert "unknown token" in text_of(response.text)
    assert typed not in response.text  # what was typed is not shown back
    assert browser.get("/").status_code == 303


def test_login_sets_a_strict_http_only_cookie_and_logout_ends_the_session(site: Site) -> None:
    browser = site.client()
    response = browser.http.post(
        "/login", data={"token": site.tokens["viewer"], "next": "/runners"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/runners"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS the cookie is Secure
    assert site.tokens["viewer"] not in cookie

    page = browser.get("/")
    assert page.status_code == 200
    assert "viewer (viewer)" in text_of(page.text)
    browser.csrf = csrf_of(page.text)
    saved = dict(browser.http.cookies)

    out = browser.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert browser.get("/").status_code == 303
    replay = PageClient(site.server.url)
    replay.http.cookies.update(saved)
    assert replay.get("/").status_code == 303, "a logged-out session still opened pages"


def test_login_goes_back_only_to_a_path_of_this_server(site: Site) -> None:
    for target, expected in (("//evil.example/x", "/"), ("https://evil.example/", "/"),
                             ("/timeperiods", "/timeperiods")):  # fmt: skip
        response = site.client().http.post(
            "/login", data={"token": site.tokens["viewer"], "next": target}
        )
        assert response.headers["location"] == expected


def test_a_revoked_token_ends_its_sessions(site: Site) -> None:
    token = make_token(site.url, "short-lived", "viewer")
    browser = PageClient(site.server.url)
    assert browser.login(token).status_code == 303
    assert browser.get("/").status_code == 200
    add(site.url, "tokens", "revoke", "short-lived")
    assert browser.get("/").status_code == 303


def test_pages_accept_a_bearer_token_and_its_posts_need_no_csrf(site: Site) -> None:
    headers = {"Authorization": f"Bearer {site.tokens['operator']}", **HTML}
    page = httpx.get(f"{site.server.url}/", headers=headers, timeout=60)
    assert page.status_code == 200
    done = httpx.post(f"{site.server.url}/jobs/alpha/disable", headers=headers, timeout=60)
    assert done.status_code == 303
    assert site.api("/jobs/alpha")["disabled"] is True
    again = httpx.post(f"{site.server.url}/jobs/alpha/enable", headers=headers, timeout=60)
    assert again.status_code == 303
    bad = httpx.get(f"{site.server.url}/", headers={"Authorization": "Bearer djt_nope"}, timeout=60)
    assert bad.status_code == 401


def test_a_post_without_the_sessions_csrf_token_is_403_and_changes_nothing(site: Site) -> None:
    browser = site.client("operator")
    for form in ({}, {"csrf": "forged"}):
        refused = browser.http.post("/jobs/alpha/disable", data=form)
        assert refused.status_code == 403
        assert "csrf" in text_of(refused.text)
    assert site.api("/jobs/alpha")["disabled"] is False


def test_a_viewer_sees_no_buttons_and_a_forged_post_is_403(site: Site) -> None:
    viewer = site.client("viewer")
    page = viewer.get("/jobs/alpha")
    assert page.status_code == 200
    for button in ('id="trigger"', 'id="toggle"', 'id="delete"', "/edit"):
        assert button not in page.text
    before = len(runs_of(site, "alpha"))
    forged = viewer.post("/jobs/alpha/trigger")  # with the viewer's own valid CSRF token
    assert forged.status_code == 403
    assert "viewer" in text_of(forged.text)
    assert len(runs_of(site, "alpha")) == before

    operator = site.client("operator").get("/jobs/alpha").text
    assert 'id="trigger"' in operator and 'id="toggle"' in operator
    assert 'id="delete"' not in operator and "/jobs/alpha/edit" not in operator
    admin = site.client("admin").get("/jobs/alpha").text
    assert 'id="delete"' in admin and "/jobs/alpha/edit" in admin


# -- what the pages show ---------------------------------------------------------------------


def test_the_dashboard_shows_every_job_its_last_run_and_counts(site: Site) -> None:
    page = site.client("viewer").get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "1 failed" in text and "0 running" in text and "4 jobs" in text
    rows = dict(re.findall(r'data-job="([^"]+)" data-state="([^"]+)"', page.text))
    assert rows == {"alpha": "success", "broken": "error", "hostile": "success",
                    "secretive": "never"}  # fmt: skip
    assert "every 1 h" in text
    assert "cron 30 3 * * * Europe/Berlin" in text
    assert "manual only" in text
    assert "office" in text and ("open" in text or "closed" in text)


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("status=error", {"broken"}),
        ("tag=nightly", {"alpha"}),
        ("type=self-check", {"alpha"}),
        ("q=FIRST", {"alpha"}),
        ("q=nothing-like-this", set()),
    ],
)
def test_the_dashboard_filters(site: Site, query: str, shown: set[str]) -> None:
    page = site.client("viewer").get(f"/?{query}")
    assert set(re.findall(r'data-job="([^"]+)"', page.text)) == shown
    fragment = site.client("viewer").get(f"/fragments/jobs?{query}")
    assert set(re.findall(r'data-job="([^"]+)"', fragment.text)) == shown
    assert "<html" not in fragment.text  # only the live part, for the page's poll


def test_a_bad_filter_is_a_422_page_naming_it(site: Site) -> None:
    page = site.client("viewer").get("/?status=exploded")
    assert page.status_code == 422
    assert "status" in text_of(page.text) and "exploded" in text_of(page.text)


def test_the_job_page_has_its_definition_chart_history_and_next_starts(site: Site) -> None:
    for _ in range(3):
        invoke(site.url, "jobs", "run", "broken")
    runs = runs_of(site, "broken")
    page = site.client("viewer").get("/jobs/broken")
    assert page.status_code == 200
    bars = re.findall(r'<rect class="bar (\w+)"', page.text)
    assert bars == ["bad"] * len(runs)
    starts = page.text.split("starts</h2>")[1].split("</ol>")[0]
    assert len(re.findall(r'<li><time datetime="[^"]+">', starts)) == 5
    text = text_of(page.text)
    assert "every 1 d" in text
    assert all(f"#{run['id']}" in text for run in runs)
    assert "echo failing" in text  # its parameters


def test_the_history_is_paged(site: Site) -> None:
    add(site.url, "jobs", "add", "busy", "--type", "self-check")
    for _ in range(23):
        invoke(site.url, "jobs", "run", "busy")
    viewer = site.client("viewer")
    first = viewer.get("/jobs/busy").text
    history = first.split("<h2>History</h2>")[1]
    assert len(re.findall(r'<tr>\s*<td><a href="/runs/', history)) == 20
    older = re.search(r'href="(/jobs/busy\?before=\d+)">Older runs', first)
    assert older is not None
    second = viewer.get(older.group(1)).text.split("<h2>History</h2>")[1]
    assert len(re.findall(r'<tr>\s*<td><a href="/runs/', second)) == 3
    assert "Older runs" not in second
    assert len(re.findall(r'<rect class="bar', first)) == 23


def test_a_runs_output_is_text_without_terminal_codes(site: Site) -> None:
    run = runs_of(site, "hostile")[0]
    page = site.client("viewer").get(f"/runs/{run['id']}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<b>bold</b>" not in page.text
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page.text
    assert "\x1b" not in page.text
    output = page.text.split('id="output"')[1].split("</pre>")[0]
    assert "\nred\n" in output  # the colour codes around it are gone, the text stays


def test_every_page_forbids_inline_scripts(site: Site) -> None:
    run = runs_of(site, "hostile")[0]
    admin = site.client("admin")
    for path in ("/", "/jobs/alpha", f"/runs/{run['id']}", "/timeperiods", "/timeperiods/office",
                 "/activity", "/runners", "/jobs/-/new", "/jobs/alpha/edit", "/login"):  # fmt: skip
        page = admin.get(path)
        assert page.status_code == 200, path
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        scripts = re.findall(r"<script[^>]*>", page.text)
        assert scripts and all(" src=" in tag for tag in scripts), path
        assert ' style="' not in page.text and "onclick" not in page.text, path


def test_secrets_are_masked_in_pages_and_kept_by_an_edit(site: Site) -> None:
    admin = site.client("admin")
    for path in ("/jobs/secretive", "/jobs/secretive/edit"):
        page = admin.get(path)
        assert SECRET_VALUE not in page.text and "***" in page.text
    form = admin.get("/jobs/secretive/edit").text
    values = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    parameters = re.search(r'name="parameters"[^>]*>([^<]*)</textarea>', form)
    assert parameters is not None
    values["parameters"] = html.unescape(parameters.group(1))
    values["type"] = "command"
    values["description"] = "edited in the page"
    values.pop("csrf", None)
    saved = admin.post("/jobs/secretive/edit", values)
    assert saved.status_code == 303, text_of(saved.text)
    database = Database(site.url)
    try:
        spec = database.jobs.get("secretive").spec
    finally:
        database.dispose()
    assert spec.parameters["env"]["API_PASSWORD"] == SECRET_VALUE
    assert spec.description == "edited in the page"


def test_the_period_page_draws_the_next_14_days_and_lists_its_jobs(site: Site) -> None:
    page = site.client("viewer").get("/timeperiods/office")
    assert page.status_code == 200
    days = re.findall(r'<text x="0" y="[\d.]+">(\w{3} \d\d \w{3})</text>', page.text)
    assert len(days) == 14
    mondays = sum(1 for day in days if day.startswith("Mon"))
    assert page.text.count("09:00–17:00 open</title>") == mondays
    assert 'href="/jobs/alpha"' in page.text.split("Jobs in this period")[1]


def test_a_period_icinga_evaluates_differently_shows_the_warning(site: Site) -> None:
    add(site.url, "timeperiods", "add", "leap", "--range", "february 29=00:00-24:00")
    text = text_of(site.client("viewer").get("/timeperiods/leap").text)
    assert "Icinga 2 differs" in text and "february 29" in text


def test_the_activity_page_names_the_web_user_and_filters(site: Site) -> None:
    operator = site.client("operator")
    assert operator.post("/jobs/hostile/disable").status_code == 303
    assert operator.post("/jobs/hostile/enable").status_code == 303
    page = site.client("viewer").get("/activity?kind=job&q=hostile")
    text = text_of(page.text)
    assert "web:operator disabled job hostile" in text
    assert "timeperiod" not in text.split("Name")[-1]
    periods = text_of(site.client("viewer").get("/activity?kind=timeperiod").text)
    assert "created timeperiod office" in periods and "disabled job" not in periods


def test_the_runners_page_lists_the_one_shot_runs_as_stopped(site: Site) -> None:
    text = text_of(site.client("viewer").get("/runners").text)
    assert "one-shot" in text and "stopped" in text  # the `jobs run` of define()
    assert "alive" not in text and "No runner has registered yet" not in text


def test_the_runners_page_says_when_none_has_registered(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    server = ApiServer(url, tmp_path / "serve.log").start()
    try:
        browser = PageClient(server.url)
        assert browser.login(make_token(url, "v", "viewer")).status_code == 303
        text = text_of(browser.get("/runners").text)
        assert "No runner has registered yet: start director jobs run --forever" in text
    finally:
        server.stop()


# -- changes -------------------------------------------------------------------------------


def test_a_trigger_from_the_page_queues_a_run_and_shows_it(site: Site) -> None:
    operator = site.client("operator")
    response = operator.post("/jobs/alpha/trigger", {"parameters": ""})
    assert response.status_code == 303
    run_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = operator.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert "pending" in text_of(page.text) and "manual" in text_of(page.text)
    activity = site.api("/activity?limit=5")["activity"]
    assert any(e["actor"] == "web:operator" and e["action"] == "triggered" for e in activity)
    assert "Triggered by web:operator" in text_of(page.text)
    # No runner runs here: the queued run is cancelled at once.
    stopped = operator.post(f"/runs/{run_id}/stop")
    assert stopped.status_code == 303
    text = text_of(operator.get(f"/runs/{run_id}").text)
    assert "stopped" in text and "Stopped by web:operator" in text


def test_trigger_parameters_are_checked_like_the_cli_checks_them(site: Site) -> None:
    before = len(runs_of(site, "broken"))
    page = site.client("operator").post("/jobs/broken/trigger", {"parameters": '{"nope": 1}'})
    assert page.status_code == 422
    assert "nope" in text_of(page.text)
    broken_json = site.client("operator").post("/jobs/broken/trigger", {"parameters": "{"})
    assert broken_json.status_code == 422 and "parameters" in text_of(broken_json.text)
    assert len(runs_of(site, "broken")) == before


def test_a_job_that_wants_confirmation_is_asked_first(site: Site) -> None:
    add(site.url, "jobs", "add", "careful", "--type", "self-check", "--confirm")
    operator = site.client("operator")
    asked = operator.post("/jobs/careful/trigger")
    assert asked.status_code == 200
    assert "Really run careful now?" in text_of(asked.text)
    assert runs_of(site, "careful") == []
    done = operator.post("/jobs/careful/trigger", {"confirmed": "yes"})
    assert done.status_code == 303
    assert len(runs_of(site, "careful")) == 1


def cli_error(url: str, *args: str) -> str:
    """The one-line error the CLI prints for the same bad input."""
    result = run_director(url, *args)
    assert result.returncode != 0
    return result.stderr.strip().removeprefix("director: error: ")


@pytest.mark.parametrize(
    ("field", "value", "cli"),
    [
        ("cron", "61 * * * *", ["--cron", "61 * * * *"]),
        ("interval", "soon", ["--interval", "soon"]),
        ("timezone", "Mars/Olympus", ["--cron", "0 3 * * *", "--timezone", "Mars/Olympus"]),
        ("timeperiod", "nowhere", ["--timeperiod", "nowhere"]),
        ("retries", "-1", ["--retries", "-1"]),
    ],
)
def test_the_job_form_shows_the_clis_error_beside_the_field(
    site: Site, field: str, value: str, cli: list[str]
) -> None:
    form = {"name": "from-form", "type": "self-check", "timeout": "1h", "retries": "0",
            "retry_delay": "5m", field: value}  # fmt: skip
    if field == "timezone":
        form["cron"] = "0 3 * * *"
    page = site.client("admin").post("/jobs/-/new", form)
    assert page.status_code == 422
    error = re.search(rf'<p class="field-error" id="e-{field}" role="alert">([^<]+)</p>', page.text)
    assert error is not None, text_of(page.text)
    message = text_of(error.group(1))
    assert value in message and field in message
    assert message == cli_error(site.url, "jobs", "add", "from-form", "--type", "self-check", *cli)
    if field != "timeperiod":  # a list to choose from
        assert f'value="{value}"' in page.text  # what was typed stays in the form
    assert site.api("/jobs/from-form")["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("field", "changes", "words"),
    [
        ("name", {"name": "bad name!"}, "bad name!"),
        ("name", {"name": "alpha"}, "exists already"),
        ("type", {"type": "teleport"}, "teleport"),
        ("parameters", {"parameters": "[1, 2"}, "not valid JSON"),
        ("parameters", {"parameters": "[1, 2]"}, "JSON object"),
    ],
)
def test_the_job_form_refuses_bad_names_types_and_parameters(
    site: Site, field: str, changes: dict[str, str], words: str
) -> None:
    form = {"name": "from-form", "type": "self-check", **changes}
    page = site.client("admin").post("/jobs/-/new", form)
    assert page.status_code == 422
    error = re.search(rf'id="e-{field}" role="alert">([^<]+)</p>', page.text)
    assert error is not None and words in text_of(error.group(1)), text_of(page.text)


def test_a_job_made_in_the_form_is_stored_and_logged(site: Site) -> None:
    admin = site.client("admin")
    form = {"name": "made-in-page", "type": "command", "parameters": '{"command": "true"}',
            "cron": "15 4 * * *", "timezone": "Europe/Berlin", "tags": "a, b",
            "timeout": "10m", "retries": "2", "retry_delay": "1m", "confirm": "on"}  # fmt: skip
    saved = admin.post("/jobs/-/new", form)
    assert saved.status_code == 303 and saved.headers["location"] == "/jobs/made-in-page"
    job = site.api("/jobs/made-in-page")
    assert (job["cron"], job["timezone"], job["tags"], job["retries"], job["confirm"]) == (
        "15 4 * * *", "Europe/Berlin", ["a", "b"], 2, True)  # fmt: skip
    activity = site.api("/activity?limit=5")["activity"]
    assert any(
        (e["actor"], e["action"], e["name"]) == ("web:admin", "created", "made-in-page")
        for e in activity
    )
    asked = admin.post("/jobs/made-in-page/delete")
    assert asked.status_code == 200 and "Really delete" in text_of(asked.text)
    assert site.api("/jobs/made-in-page")["name"] == "made-in-page"
    gone = admin.post("/jobs/made-in-page/delete", {"confirmed": "yes"})
    assert gone.status_code == 303
    assert site.api("/jobs/made-in-page")["error"]["code"] == "NOT_FOUND"


def test_the_period_form_refuses_a_bad_range_and_stores_a_good_one(site: Site) -> None:
    admin = site.client("admin")
    bad = admin.post("/timeperiods/-/new", {"name": "night", "ranges": "monday = 25:00-26:00"})
    assert bad.status_code == 422
    error = re.search(r'id="e-ranges" role="alert">([^<]+)</p>', bad.text)
    assert error is not None and "25:00-26:00" in text_of(error.group(1)), text_of(bad.text)
    assert admin.get("/timeperiods/night").status_code == 404
    good = admin.post("/timeperiods/-/new", {"name": "night", "ranges": "monday = 22:00-24:00",
                                             "prefer_includes": "on"})  # fmt: skip
    assert good.status_code == 303
    assert "22:00–24:00 open" in admin.get("/timeperiods/night").text
    edited = admin.post("/timeperiods/night/edit", {"ranges": "tuesday = 01:00-02:00",
                                                    "prefer_includes": "on"})  # fmt: skip
    assert edited.status_code == 303
    assert "01:00–02:00 open" in admin.get("/timeperiods/night").text
    assert admin.post("/timeperiods/office/delete", {"confirmed": "yes"}).status_code == 422
    assert admin.post("/timeperiods/night/delete", {"confirmed": "yes"}).status_code == 303


def test_unknown_things_are_404_pages(site: Site) -> None:
    viewer = site.client("viewer")
    for path, words in (("/jobs/ghost", "ghost"), ("/runs/999999", "999999"),
                        ("/timeperiods/ghost", "ghost")):  # fmt: skip
        page = viewer.get(path)
        assert page.status_code == 404 and words in text_of(page.text)
    assert viewer.get("/jobs/bad%20name").status_code == 422


def test_a_path_that_is_no_page_is_a_404_page_for_browsers_and_json_for_scripts(
    site: Site,
) -> None:
    page = site.client("viewer").get("/no/such/page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "no page at '/no/such/page'" in text_of(page.text)
    script = httpx.get(f"{site.server.url}/no/such/page", timeout=60)
    assert script.status_code == 404 and script.json()["error"]["field"] == "path"
    api = httpx.get(f"{site.server.url}/api/v1/nothing", headers=HTML, timeout=60)
    assert api.status_code == 404 and api.json()["error"]["code"] == "NOT_FOUND"


# -- a trusted proxy, a prefix, bad options --------------------------------------------------


def test_a_trusted_proxys_user_gets_the_configured_role(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    define(url)
    config = tmp_path / "config.toml"
    config.write_text('[web.users]\nalice = "operator"\nbob = "viewer"\n')
    server = ApiServer(url, tmp_path / "serve.log", "--trusted-proxy-header", "X-Remote-User",
                       config=config).start()  # fmt: skip
    try:
        alice = PageClient(server.url, {"X-Remote-User": "alice"})
        page = alice.get("/")
        assert page.status_code == 200 and "alice (operator)" in text_of(page.text)
        assert "HttpOnly" in page.headers["set-cookie"]  # a session for her CSRF token
        alice.csrf = csrf_of(page.text)
        assert alice.post("/jobs/alpha/disable").status_code == 303
        assert alice.get("/").headers.get("set-cookie") is None  # the same session again
        bob = PageClient(server.url, {"X-Remote-User": "bob"})
        bob.http.cookies.update(dict(alice.http.cookies))  # alice's cookie is not bob's
        bob_page = bob.get("/jobs/alpha")
        assert "bob (viewer)" in text_of(bob_page.text) and 'id="toggle"' not in bob_page.text
        mallory = PageClient(server.url, {"X-Remote-User": "mallory"}).get("/")
        assert mallory.status_code == 403 and "mallory" in text_of(mallory.text)
        assert PageClient(server.url).get("/").status_code == 303  # no header: log in
    finally:
        server.stop()


def test_without_the_option_the_proxy_header_is_ignored(site: Site) -> None:
    page = PageClient(site.server.url, {"X-Remote-User": "alice"}).get("/")
    assert page.status_code == 303


def test_links_carry_the_root_path(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    define(url)
    token = make_token(url, "admin", "admin")
    server = ApiServer(url, tmp_path / "serve.log", "--root-path", "/director").start()
    try:
        # The proxy takes the prefix off: the server is asked for /, the browser sees /director/.
        browser = PageClient(server.url)
        assert browser.get("/").headers["location"] == "/director/login?next=/"
        login = browser.http.post("/login", data={"token": token, "next": "/"})
        assert login.headers["location"] == "/director/"
        assert "Path=/director" in login.headers["set-cookie"]
        scripted = PageClient(server.url, {"Authorization": f"Bearer {token}"})
        page = scripted.get("/").text
        assert 'href="/director/jobs/alpha"' in page
        assert 'href="/director/static/app.css"' in page
        assert browser.get("/static/app.js").status_code == 200
    finally:
        server.stop()


def test_bad_serve_options_and_config_are_refused_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    bad_header = run_director(url, "serve", "--trusted-proxy-header", "X Remote User")
    assert bad_header.returncode == 2
    assert bad_header.stderr.strip().splitlines() == [
        "director: error: trusted_proxy_header: invalid value 'X Remote User': "
        "expected a header name such as X-Remote-User"
    ]
    config = tmp_path / "config.toml"
    config.write_text('[web.users]\nalice = "boss"\n')
    bad_role = run_director(url, "--config", str(config), "serve")
    assert bad_role.returncode == 78
    assert bad_role.stderr.strip().splitlines() == [
        f"director: error: config: web.users.alice in '{config}': 'boss' is not a role; "
        "expected viewer, operator or admin"
    ]


def test_sessions_expire_when_idle_and_after_their_lifetime(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    database = Database.open(f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        token = TokenService(database, clock).add("t", "viewer", None, "test")
        sessions = SessionService(database, clock)
        cookie, session = sessions.login(token)
        assert sessions.resume(cookie) == session
        clock.advance((IDLE_EXPIRY - timedelta(minutes=1)).total_seconds())
        assert sessions.resume(cookie) == session  # used: the idle time starts again
        clock.advance((IDLE_EXPIRY - timedelta(minutes=1)).total_seconds())
        assert sessions.resume(cookie) == session
        clock.advance(IDLE_EXPIRY.total_seconds())
        assert sessions.resume(cookie) is None, "an idle session lived on"
        started = clock.now()
        cookie, session = sessions.login(token)
        while sessions.resume(cookie) is not None:  # in use every half hour
            clock.advance(1800)
            assert clock.now() - started <= 2 * LIFETIME, "a busy session outlived its lifetime"
        assert LIFETIME <= clock.now() - started <= LIFETIME + timedelta(minutes=30)
        assert sessions.resume("djs_" + "A" * 43) is None
        assert sessions.resume("not a cookie") is None
    finally:
        database.dispose()


def test_static_files_come_from_the_package(site: Site) -> None:
    for name, kind in (("app.css", "text/css"), ("app.js", "javascript"),
                       ("favicon.svg", "image/svg+xml")):  # fmt: skip
        response = httpx.get(f"{site.server.url}/static/{name}", timeout=60)
        assert response.status_code == 200 and kind in response.headers["content-type"]
