"""`director serve` and `director tokens` as an administrator meets them: options, TLS, a
path prefix, bad-token bursts, and the runner that never loads the web stack."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from api_server import ApiServer, make_token
from conftest import invoke, run_director
from receivers import self_signed

from director_jobs import exit_codes
from director_jobs.api.throttle import LIMIT

# -- tokens ----------------------------------------------------------------------------------


def test_a_new_token_is_the_last_word_on_stdout_and_only_its_hash_is_stored(
    sqlite_url: str, tmp_path: Path
) -> None:
    result = run_director(sqlite_url, "tokens", "add", "ci", "--role", "operator")
    assert result.returncode == 0, result.stderr
    token = result.stdout.split()[-1]
    assert result.stdout.strip() == token
    assert token.startswith("djt_") and len(token) >= 4 + 43  # 32 random bytes
    assert "not shown again" in result.stderr
    listed = run_director(sqlite_url, "tokens", "list", "--json")
    [entry] = json.loads(listed.stdout)
    assert (entry["name"], entry["role"], entry["state"]) == ("ci", "operator", "active")
    assert token not in listed.stdout
    database = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    assert token.encode() not in database


def test_tokens_differ_each_time(sqlite_url: str) -> None:
    tokens = {make_token(sqlite_url, f"t{i}", "viewer") for i in range(5)}
    assert len(tokens) == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tokens", "add", "x", "--role", "root"], "'root' is not one of"),
        (["tokens", "add", "bad name", "--role", "viewer"], "name: invalid value 'bad name'"),
        (["tokens", "add", "x", "--role", "viewer", "--expires", "soon"], "expires: invalid"),
        (["tokens", "add", "x", "--role", "viewer", "--expires", "0"], "expires: invalid"),
        (["tokens", "revoke", "nobody"], "token: no token named 'nobody'"),
    ],
)
def test_bad_token_commands_say_what_is_wrong(
    sqlite_url: str, args: list[str], message: str
) -> None:
    result = run_director(sqlite_url, *args)
    assert result.returncode == exit_codes.USAGE, result.stderr
    assert message in result.stderr
    assert json.loads(run_director(sqlite_url, "tokens", "list", "--json").stdout) == []


def test_a_token_name_is_taken_once_and_revoking_twice_says_so(sqlite_url: str) -> None:
    make_token(sqlite_url, "ci", "viewer")
    again = run_director(sqlite_url, "tokens", "add", "ci", "--role", "admin")
    assert again.returncode == exit_codes.USAGE
    assert "a token named 'ci' exists already" in again.stderr
    assert run_director(sqlite_url, "tokens", "revoke", "ci").returncode == 0
    twice = run_director(sqlite_url, "tokens", "revoke", "ci")
    assert twice.returncode == exit_codes.USAGE and "revoked already" in twice.stderr
    listed = invoke(sqlite_url, "tokens", "list")
    assert "ci" in listed.stdout and "revoked" in listed.stdout


# -- serve's options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "8470"], "listen: invalid value '8470': expected HOST:PORT"),
        (["--listen", "127.0.0.1:99999"], "listen: invalid value '127.0.0.1:99999'"),
        (["--listen", "127.0.0.1:http"], "listen: invalid value '127.0.0.1:http'"),
        (["--tls-cert", "/etc/hostname"], "tls_key: invalid value None"),
        (["--root-path", "prefix/"], "root_path: invalid value 'prefix/'"),
    ],
)
def test_bad_serve_options_are_usage_errors(sqlite_url: str, args: list[str], message: str) -> None:
    result = run_director(sqlite_url, "serve", *args)
    assert result.returncode == exit_codes.USAGE, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_unreadable_certificate_is_a_configuration_error(
    sqlite_url: str, tmp_path: Path
) -> None:
    result = run_director(
        sqlite_url, "serve", "--tls-cert", str(tmp_path / "none.pem"),
        "--tls-key", str(tmp_path / "none.key"),
    )  # fmt: skip
    assert result.returncode == exit_codes.CONFIG, result.stderr
    assert "tls_cert: cannot read" in result.stderr and "none.pem" in result.stderr


def test_a_port_in_use_is_a_configuration_error(sqlite_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_director(sqlite_url, "serve", "--listen", f"127.0.0.1:{port}")
    assert result.returncode == exit_codes.CONFIG, result.stderr
    assert f"listen: cannot listen on '127.0.0.1:{port}'" in result.stderr


def test_serve_stops_cleanly_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    server = ApiServer(sqlite_url, tmp_path / "serve.log").start()
    code = server.stop()
    assert code in (0, -15, 143), server.log()  # uvicorn re-raises SIGTERM (PLATFORM.md §9)
    assert "Traceback" not in server.log()


def test_https_with_the_given_certificate(sqlite_url: str, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "api")
    trusted = ssl.create_default_context(cafile=str(cert))
    server = ApiServer(
        sqlite_url, tmp_path / "serve.log", "--tls-cert", str(cert), "--tls-key", str(key)
    ).start(verify=trusted)
    try:
        assert server.url.startswith("https://")
        response = httpx.get(f"{server.url}/api/v1/health", verify=trusted, timeout=60)
        assert response.json()["database_reachable"] is True
        with pytest.raises(httpx.ConnectError):  # verified by default: an unknown CA fails
            httpx.get(f"{server.url}/api/v1/health", timeout=60)
        with pytest.raises(httpx.RemoteProtocolError):  # no plain HTTP on the TLS port
            httpx.get(f"http://127.0.0.1:{server.port}/api/v1/health", timeout=60)
    finally:
        server.stop()


def test_behind_a_proxy_prefix_the_docs_point_below_it(sqlite_url: str, tmp_path: Path) -> None:
    server = ApiServer(sqlite_url, tmp_path / "serve.log", "--root-path", "/director").start()
    try:
        page = httpx.get(f"{server.url}/api/v1/docs", timeout=60)
        spec = httpx.get(f"{server.url}/api/v1/openapi.json", timeout=60).json()
    finally:
        server.stop()
    assert "/director/api/v1/openapi.json" in page.text
    assert "/director/api/v1/docs/assets/swagger-ui.css" in page.text
    assert spec["servers"] == [{"url": "/director"}]


def test_a_burst_of_bad_tokens_is_answered_429_even_for_a_good_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    good = make_token(sqlite_url, "good", "viewer")
    server = ApiServer(sqlite_url, tmp_path / "serve.log").start()
    try:
        with httpx.Client(base_url=f"{server.url}/api/v1", timeout=60) as client:
            statuses = [
                client.get("/jobs", headers={"Authorization": f"Bearer djt_guess{i}"}).status_code
                for i in range(LIMIT)
            ]
            throttled = client.get("/jobs", headers={"Authorization": f"Bearer {good}"})
            health = client.get("/health")
    finally:
        server.stop()
    assert statuses == [401] * LIMIT
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "TOO_MANY_REQUESTS"
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    assert health.status_code in (200, 503)  # the bare health needs no token: not throttled


def test_one_shot_runs_never_load_the_web_stack(sqlite_url: str) -> None:
    """`jobs run` from cron must not pay for FastAPI (PLATFORM.md §6: 0.2-0.3 s)."""
    added = invoke(sqlite_url, "jobs", "add", "hello", "--type", "self-check", "--interval", "1h")
    assert added.exit_code == 0, added.output
    code = (
        "import sys, runpy; sys.argv = ['director', 'jobs', 'run'];\n"
        "try:\n    runpy.run_module('director_jobs', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    loaded = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'fastapi', 'starlette', 'uvicorn', 'pydantic', 'jinja2', 'director_jobs'})\n"
        "    print(loaded, exit.code, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"DIRECTOR_JOBS_DATABASE_URL": sqlite_url, "TZ": "UTC", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stderr.strip().splitlines()[-1] == "['director_jobs'] 0", result.stderr
