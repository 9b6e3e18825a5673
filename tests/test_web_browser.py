"""The web page in a real Chromium (Selenium and Debian's chromedriver) against a real
`director serve` and a real `jobs run --forever` on one SQLite database holding the
example pipeline: log in, watch rows change, follow output, stop, edit, roles, escaping.
A failing test leaves `screenshot.png` and `page.html` in its tmp folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import DIRECTOR, PHASE_REPORTS, director_env, invoke, missing, wait_for
from example import PIPELINE, filled_in
from icinga import require_icinga2

try:
    from selenium import webdriver
    from selenium.common.exceptions import (
        NoAlertPresentException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait
except ImportError:  # the test extra is not installed: every test here says so
    webdriver = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Generous: a page, a 3 s refresh tick and a job start on a machine with busy cores.
WAIT_SECONDS = 90
HOSTILE_OUTPUT = "<script>alert('owned')</script><b>bold</b>"
T = TypeVar("T")


@dataclass
class Site:
    """The server, the daemon and their database, with a token per role."""

    server: ApiServer
    database_url: str
    tokens: dict[str, str]
    gates: Path  # files the test jobs wait for

    def api(self, method: str, path: str) -> Any:
        """An API call with the admin token; the JSON (None for a 404)."""
        headers = {"Authorization": f"Bearer {self.tokens['admin']}"}
        response = httpx.request(
            method, f"{self.server.url}/api/v1{path}", headers=headers, timeout=60
        )
        if response.status_code == 404:
            return None
        assert response.status_code < 300, response.text
        return response.json()

    def runs_of(self, job: str) -> list[dict[str, Any]]:
        """The job's runs, newest first."""
        return list(self.api("GET", f"/runs?job={job}&limit=100")["runs"])

    def open_gate(self, name: str) -> None:
        """Let a test job waiting for gate `name` go on."""
        (self.gates / name).touch()


def waiting_for(gates: Path, name: str) -> str:
    """A shell line that waits until the test opens the gate `name`."""
    return f"while [ ! -e {gates / name} ]; do sleep 0.1; done"


def define_test_jobs(url: str, gates: Path) -> None:
    """Manual-only command jobs that wait for the test, and one that prints markup."""
    jobs = {
        "gated": f"echo waiting; {waiting_for(gates, 'gated')}; echo through",
        "talker": (
            f"echo 'first line'; {waiting_for(gates, 'talker-1')}; "
            f"echo '<i>second</i> line'; {waiting_for(gates, 'talker-2')}; echo 'last line'"
        ),
        "long": "sleep 600",
    }
    for name, command in jobs.items():
        parameters = json.dumps({"command": command, "shell": True})
        extra = ["--confirm"] if name == "long" else []
        added = invoke(url, "jobs", "add", name, "--type", "command", "--parameters", parameters,
                       "--description", f"browser test job {name}", *extra)  # fmt: skip
        assert added.exit_code == 0, added.output
    hostile = {"command": ["printf", HOSTILE_OUTPUT + "\\n\\033[31mred\\033[0m\\n"]}
    added = invoke(url, "jobs", "add", "hostile", "--type", "command",
                   "--parameters", json.dumps(hostile))  # fmt: skip
    assert added.exit_code == 0, added.output


def start_daemon(url: str, log: Path) -> subprocess.Popen[bytes]:
    """`jobs run --forever`, once `director status` lists it (a trigger then wakes it)."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*DIRECTOR, "jobs", "run", "--forever", "--verbose"],
            env=director_env(url),
            stdout=out,
            stderr=out,
        )

    def registered() -> bool:
        assert process.poll() is None, log.read_text(errors="replace")
        status = json.loads(invoke(url, "status", "--json").stdout)
        return any(runner["mode"] == "forever" for runner in status["runners"])

    wait_for(registered, "the daemon to register")
    return process


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if webdriver is None:
        missing("selenium", "install the test extra: .venv/bin/pip install -e '.[test]'")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        missing("Chromium", "apt-get install chromium chromium-driver (scripts/setup.sh --test)")
    require_icinga2()  # deploy-config of the example pipeline validates with icinga2
    tmp = tmp_path_factory.mktemp("browser")
    gates = tmp / "gates"
    gates.mkdir()
    url = f"sqlite:///{tmp / 'jobs.db'}"
    applied = invoke(url, "apply", str(filled_in(tmp)))
    assert applied.exit_code == 0, applied.output
    define_test_jobs(url, gates)
    ran = invoke(url, "jobs", "run", *PIPELINE, "hostile")  # the dashboard shows results
    assert ran.exit_code == 0, ran.output
    tokens = {
        role: make_token(url, f"{role}-user", role) for role in ("viewer", "operator", "admin")
    }
    daemon = start_daemon(url, tmp / "daemon.log")
    server = ApiServer(url, tmp / "serve.log").start()
    try:
        yield Site(server, url, tokens, gates)
    finally:
        for name in ("gated", "talker-1", "talker-2"):  # nothing left waiting
            (gates / name).touch()
        server.stop()
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=120)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(timeout=60)


@pytest.fixture
def browser(request: pytest.FixtureRequest, tmp_path: Path, site: Site) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--window-size=1280,800"):  # fmt: skip
        options.add_argument(flag)
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager download a driver
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        call = request.node.stash.get(PHASE_REPORTS, {}).get("call")
        if call is not None and call.failed:
            driver.save_screenshot(str(tmp_path / "screenshot.png"))
            (tmp_path / "page.html").write_text(driver.page_source, encoding="utf-8")
            print(f"screenshot of the failure: {tmp_path / 'screenshot.png'}")
        driver.quit()


def until(driver: WebDriver, probe: Callable[[], T], what: str) -> T:
    """`probe()` once it is truthy (elements replaced meanwhile are simply looked up again)."""

    def attempt(_: WebDriver) -> T | bool:
        try:
            return probe()
        except StaleElementReferenceException:
            return False

    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.2).until(attempt, what)


def log_in(driver: WebDriver, site: Site, role: str, path: str = "/") -> None:
    """Open `path`, land on the login form, give the role's token, and come back."""
    driver.get(site.server.url + path)
    until(driver, lambda: "/login" in driver.current_url, "the login form")
    driver.find_element(By.ID, "token").send_keys(site.tokens[role])
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    until(driver, lambda: "/login" not in driver.current_url, "the page after login")


def row(driver: WebDriver, job: str) -> Any:
    """The dashboard row of `job`."""
    return driver.find_element(By.ID, f"job-{job}")


def mark_page(driver: WebDriver) -> None:
    """Put a mark on the loaded page that a reload would wipe."""
    driver.execute_script("window.sameDocument = true;")


def still_same_page(driver: WebDriver) -> bool:
    """True when the page was not reloaded since mark_page()."""
    return driver.execute_script("return window.sameDocument === true;") is True


def accept_confirmation(driver: WebDriver) -> str:
    """Accept the JS confirmation dialog that is open; its text."""
    alert = until(driver, lambda: driver.switch_to.alert, "a confirmation dialog")
    text = str(alert.text)
    alert.accept()
    return text


# -- the tests ---------------------------------------------------------------------------


def test_log_in_and_the_dashboard_shows_the_example_pipeline(
    browser: WebDriver, site: Site
) -> None:
    browser.get(site.server.url + "/")
    assert "/login?next=/" in browser.current_url
    browser.find_element(By.ID, "token").send_keys("djt_" + "x" * 43)
    browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    error = until(browser, lambda: browser.find_element(By.ID, "token-error"), "the login error")
    assert "unknown token" in error.text

    log_in(browser, site, "operator")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Jobs"
    assert "operator-user (operator)" in browser.find_element(By.CLASS_NAME, "who").text
    for job in PIPELINE:
        status = row(browser, job).find_element(By.CSS_SELECTOR, "td.last .status")
        assert status.text == "success", job  # the word, not only its colour
        assert "ok" in (status.get_attribute("class") or "")
    housekeeping = row(browser, "housekeeping").text
    assert "nights" in housekeeping and "never run" in housekeeping
    assert "every" in row(browser, "import-cmdb").text  # the schedule in words
    counts = browser.find_element(By.CLASS_NAME, "counts").text
    assert "0 failed" in counts and f"{len(site.api('GET', '/jobs')['jobs'])} jobs" in counts


def test_a_triggered_job_turns_running_then_success_without_a_reload(
    browser: WebDriver, site: Site
) -> None:
    log_in(browser, site, "operator")
    dashboard = browser.current_window_handle
    assert row(browser, "gated").get_attribute("data-state") == "never"
    mark_page(browser)

    browser.switch_to.new_window("tab")
    browser.get(f"{site.server.url}/jobs/gated")
    browser.find_element(By.ID, "trigger").click()
    until(browser, lambda: "/runs/" in browser.current_url, "the run page after the trigger")
    browser.switch_to.window(dashboard)

    until(browser, lambda: row(browser, "gated").get_attribute("data-state") == "running",
          "the row to show the run")  # fmt: skip
    assert "running" in row(browser, "gated").find_element(By.CSS_SELECTOR, "td.last").text
    site.open_gate("gated")
    until(browser, lambda: row(browser, "gated").get_attribute("data-state") == "success",
          "the row to show the success")  # fmt: skip
    assert row(browser, "gated").find_element(By.CSS_SELECTOR, "td.last .status").text == "success"
    assert still_same_page(browser), "the dashboard was reloaded instead of refreshed"
    assert [run["status"] for run in site.runs_of("gated")] == ["success"]


def test_the_run_page_follows_the_output_live(browser: WebDriver, site: Site) -> None:
    run = site.api("POST", "/jobs/talker/trigger")["run"]
    log_in(browser, site, "viewer", f"/runs/{run['id']}")
    output = browser.find_element(By.ID, "output")
    assert output.get_attribute("data-stream"), "the page does not follow the run"
    mark_page(browser)

    until(browser, lambda: "first line" in browser.find_element(By.ID, "output").text,
          "the first line")  # fmt: skip
    site.open_gate("talker-1")
    until(browser, lambda: "<i>second</i> line" in browser.find_element(By.ID, "output").text,
          "the second line, as text")  # fmt: skip
    assert browser.find_elements(By.CSS_SELECTOR, "#output i") == []
    assert still_same_page(browser), "the output came by a reload, not live"

    site.open_gate("talker-2")
    # At the end the page reloads itself to show the final status.
    until(browser, lambda: browser.find_element(By.ID, "run-status").text == "success",
          "the final status")  # fmt: skip
    text = browser.find_element(By.ID, "output").text
    command, *printed = text.splitlines()
    assert command.startswith("INFO: running /bin/sh -c")  # the runner's line first
    assert printed == ["first line", "<i>second</i> line", "last line"]
    facts = browser.find_element(By.CLASS_NAME, "facts").text
    assert "Exit code\n0" in facts and "Triggered by\napi:admin-user" in facts


def test_stop_a_long_job_after_confirming(browser: WebDriver, site: Site) -> None:
    log_in(browser, site, "operator", "/jobs/long")
    browser.find_element(By.ID, "trigger").click()
    assert accept_confirmation(browser) == "Really run long now?"  # `confirm` is set
    until(browser, lambda: "/runs/" in browser.current_url, "the run page after the trigger")
    run_id = int(browser.current_url.rsplit("/", 1)[1])

    def stop_button() -> Any:
        found = browser.find_elements(By.ID, "stop")
        if not found:
            browser.refresh()  # the button comes once the run has started
        return found[0] if found else None

    until(browser, stop_button, "the Stop button of the running job").click()
    assert accept_confirmation(browser) == f"Really stop run #{run_id} of long?"
    until(browser, lambda: site.runs_of("long")[0]["status"] == "stopped", "the run to stop")
    run = site.runs_of("long")[0]
    assert run["id"] == run_id and run["stopped_by"] == "web:operator-user"

    until(browser, lambda: browser.find_element(By.ID, "run-status").text == "stopped",
          "the page to show the stop")  # fmt: skip
    facts = browser.find_element(By.CLASS_NAME, "facts").text
    assert "Triggered by\nweb:operator-user" in facts and "Stopped by\nweb:operator-user" in facts


def test_a_bad_cron_field_is_shown_first_then_the_job_is_created(
    browser: WebDriver, site: Site
) -> None:
    log_in(browser, site, "admin", "/jobs/-/new")
    browser.find_element(By.ID, "f-name").send_keys("nightly-report")
    Select(browser.find_element(By.ID, "f-type")).select_by_value("self-check")
    browser.find_element(By.ID, "f-cron").send_keys("61 3 * * *")
    browser.find_element(By.ID, "save").click()

    error = until(browser, lambda: browser.find_element(By.ID, "e-cron"), "the cron field error")
    assert "cron" in error.text and "61" in error.text
    assert browser.find_element(By.ID, "f-cron").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "f-name").get_attribute("value") == "nightly-report"
    assert site.api("GET", "/jobs/nightly-report") is None  # nothing stored

    cron = browser.find_element(By.ID, "f-cron")
    cron.clear()
    cron.send_keys("30 3 * * *")
    browser.find_element(By.ID, "save").click()
    until(browser, lambda: browser.current_url.endswith("/jobs/nightly-report"), "the job page")
    assert "nightly-report" in browser.find_element(By.TAG_NAME, "h1").text
    assert site.api("GET", "/jobs/nightly-report")["cron"] == "30 3 * * *"


def test_a_viewer_sees_no_buttons_and_a_forged_post_is_refused(
    browser: WebDriver, site: Site
) -> None:
    log_in(browser, site, "viewer", "/jobs/gated")
    assert "gated" in browser.find_element(By.TAG_NAME, "h1").text
    for button in ("trigger", "stop", "toggle", "delete"):
        assert browser.find_elements(By.ID, button) == [], button
    before = len(site.runs_of("gated"))

    status = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        const form = new URLSearchParams({csrf: document.body.dataset.csrf});
        fetch("/jobs/gated/trigger", {method: "POST", body: form, credentials: "same-origin"})
          .then((response) => done(response.status), () => done(-1));"""
    )
    assert status == 403
    assert len(site.runs_of("gated")) == before


def test_markup_in_a_jobs_output_is_shown_as_text(browser: WebDriver, site: Site) -> None:
    run = site.runs_of("hostile")[0]
    log_in(browser, site, "viewer", f"/runs/{run['id']}")
    output = browser.find_element(By.ID, "output")
    command, *printed = output.text.splitlines()
    assert command.startswith("INFO: running printf")
    assert printed == [HOSTILE_OUTPUT, "red"]  # the colour codes taken out
    assert browser.find_elements(By.CSS_SELECTOR, "#output script, #output b") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.accept()


def test_on_a_phone_the_dashboard_is_one_column(browser: WebDriver, site: Site) -> None:
    browser.set_window_size(390, 844)
    log_in(browser, site, "viewer")
    width = browser.execute_script("return document.documentElement.scrollWidth;")
    viewport = browser.execute_script("return window.innerWidth;")
    assert width <= viewport, "the page scrolls sideways on a phone"
    assert not browser.find_element(By.CSS_SELECTOR, "table.jobs thead").is_displayed()
    cells = row(browser, "import-cmdb").find_elements(By.TAG_NAME, "td")
    lefts = {cell.location["x"] for cell in cells}
    assert len(lefts) == 1, "the row's cells are not stacked"


def test_the_runners_page_shows_the_daemon_alive(browser: WebDriver, site: Site) -> None:
    log_in(browser, site, "viewer", "/runners")
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert any("forever" in text and "alive" in text for text in rows), rows
