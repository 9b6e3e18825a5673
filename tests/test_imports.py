"""Import sources: CSV, JSON (file and HTTPS), SQL (SQLite, PostgreSQL), modifiers, storage."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
import socket
import sqlite3
import ssl
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import PostgresServer, invoke, missing
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from director_jobs.clock import Clock, FakeClock, SystemClock
from director_jobs.db.database import Database
from director_jobs.db.schema import import_rows, import_run_rows, import_runs
from director_jobs.errors import InvalidInput, NotFound
from director_jobs.execution.inprocess import Outcome, RunLogAdapter, execute_in_process
from director_jobs.imports.checksum import canonical_json, row_checksum, run_checksum
from director_jobs.imports.definitions import export_sources, parse_sources
from director_jobs.imports.errors import SourceFailed
from director_jobs.imports.modifiers import apply_modifiers, build_modifiers
from director_jobs.imports.service import ImportService, ImportStatus, validate_source
from director_jobs.imports.spec import SourceSpec
from director_jobs.job_types.base import JobContext, JobType
from director_jobs.job_types.importer import ImportJob
from director_jobs.model import RunStatus
from director_jobs.output import OutputTail

DATA = Path(__file__).parent / "data" / "import"

# -- helpers (test_sync imports these) -------------------------------------------------


def job_context(url: str, clock: Clock) -> JobContext:
    """A context like the runner's, pointing at `url`."""
    output = OutputTail(limit=64 * 1024)
    logger = RunLogAdapter(logging.getLogger("test.import"), {"job_name": "t"}, output)
    return JobContext(
        job_name="t",
        run_id=None,
        logger=logger,
        clock=clock,
        output=output,
        timeout=60,
        database_url=url,
    )


def run_job(job: JobType, params: dict[str, Any], url: str, clock: Clock) -> tuple[Outcome, str]:
    """Run a job type in this process; return its outcome and output tail."""
    context = job_context(url, clock)
    outcome = execute_in_process(job, job.validate(params), context)
    return outcome, context.output.text()


def define_sources(engine: Engine, clock: Clock, *specs: SourceSpec) -> None:
    """Store source definitions like `director apply` would."""
    with engine.begin() as connection:
        ImportService(engine, clock).apply_in(connection, list(specs), clock.now())


def csv_source(name: str, path: Path, key: str = "hostname", **settings: Any) -> SourceSpec:
    """A CSV source definition."""
    modifiers = settings.pop("modifiers", ())
    return SourceSpec(name, "csv", key, {"path": str(path), **settings}, tuple(modifiers))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write rows (the first row's keys are the header) as CSV."""
    header = list(rows[0]) if rows else ["hostname"]
    lines = [",".join(header)] + [",".join(r.get(c, "") for c in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def count_rows(engine: Engine, table: Any) -> int:
    """Rows in a table."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def read(spec: SourceSpec) -> list[dict[str, Any]]:
    """The rows a definition yields, after modifiers, without a database."""
    from director_jobs.imports.reader import compile_source, modified_rows

    return list(modified_rows(compile_source(spec)))


def read_error(spec: SourceSpec) -> str:
    """The SourceFailed message of reading a definition."""
    from director_jobs.imports.reader import compile_source, read_source

    with pytest.raises(SourceFailed) as caught:
        read_source(compile_source(spec))
    return str(caught.value)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated database of each backend."""
    database = Database.open(db_url)
    yield database
    database.dispose()


# -- CSV -------------------------------------------------------------------------------


def test_csv_header_line_names_the_columns() -> None:
    rows = read(csv_source("cmdb", DATA / "hosts.csv"))
    assert [r["hostname"] for r in rows] == [
        "Web01.Example.COM",
        "web02.example.com",
        "db01.example.com",
        "mail, primary.example.com",  # a quoted comma stays in the field
    ]
    assert rows[0] == {
        "hostname": "Web01.Example.COM",
        "ip": " 10.0.0.1 ",
        "os": "deb",
        "env": "prod",
        "groups": "web, linux",
    }


def test_csv_delimiter_and_a_header_list() -> None:
    spec = csv_source(
        "cmdb",
        DATA / "hosts_no_header_semicolon.csv",
        delimiter=";",
        header=["hostname", "ip", "os"],
    )
    assert read(spec) == [
        {"hostname": "web01", "ip": "10.0.0.1", "os": "deb"},
        {"hostname": "web02", "ip": "10.0.0.2", "os": "rhel;9"},
    ]


def test_csv_tab_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "hosts.tsv"
    path.write_text("hostname\tip\nweb01\t10.0.0.1\n", encoding="utf-8")
    assert read(csv_source("cmdb", path, delimiter="\t")) == [
        {"hostname": "web01", "ip": "10.0.0.1"}
    ]


def test_csv_encoding_latin1_and_the_wrong_one() -> None:
    spec = csv_source("cmdb", DATA / "hosts_latin1.csv", encoding="latin-1")
    assert [r["city"] for r in read(spec)] == ["München", "Köln"]
    message = read_error(csv_source("cmdb", DATA / "hosts_latin1.csv"))
    assert message.startswith("import source 'cmdb': ")
    assert "is not utf-8 text" in message and "set encoding" in message


def test_csv_utf8_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffhostname,ip\nweb01,10.0.0.1\n".encode())
    assert read(csv_source("cmdb", path)) == [{"hostname": "web01", "ip": "10.0.0.1"}]


def test_csv_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("hostname\n\nweb01\n\n", encoding="utf-8")
    assert read(csv_source("cmdb", path)) == [{"hostname": "web01"}]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("hostname,ip\nweb01,1,extra\n", "at line 2: 3 fields, expected 2"),
        ('hostname,ip\nweb01,"10.0.0.1"x\n', "bad CSV"),
        ("", "is empty: not even a header line"),
        ("hostname,hostname\nweb01,web02\n", "column names must be distinct"),
        ("hostname,\nweb01,x\n", "column names must be distinct and non-empty"),
    ],
)
def test_csv_errors_name_the_source_and_line(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    message = read_error(csv_source("cmdb", path))
    assert message.startswith("import source 'cmdb': ") and expected in message


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"path": "relative.csv"}, "imports.x.settings.path"),
        ({"path": "/a.csv", "delimiter": ";;"}, "imports.x.settings.delimiter"),
        ({"path": "/a.csv", "encoding": "klingon"}, "imports.x.settings.encoding"),
        ({"path": "/a.csv", "header": False}, "imports.x.settings.header"),
        ({"path": "/a.csv", "header": ["a", "a"]}, "imports.x.settings.header"),
        ({"path": "/a.csv", "colour": "red"}, "imports.x.settings.colour"),
        ({}, "imports.x.settings.path"),
    ],
)
def test_csv_settings_are_checked_at_definition_time(settings: dict[str, Any], field: str) -> None:
    spec = SourceSpec("x", "csv", "hostname", settings)
    with pytest.raises(InvalidInput) as caught:
        validate_source(spec)
    assert caught.value.field == field


# -- modifiers -------------------------------------------------------------------------


def modify(row: dict[str, Any], *specs: dict[str, Any]) -> dict[str, Any]:
    """Apply modifier definitions to a copy of `row`."""
    return apply_modifiers(build_modifiers(list(specs), "imports.x.modifiers"), dict(row))


def test_each_modifier() -> None:
    row = {"h": " Web01.Example.COM ", "os": "deb", "g": "web, ,db", "empty": ""}
    assert modify(row, {"column": "h", "modifier": "lowercase"})["h"] == " web01.example.com "
    assert modify(row, {"column": "h", "modifier": "uppercase"})["h"] == " WEB01.EXAMPLE.COM "
    assert modify(row, {"column": "h", "modifier": "strip"})["h"] == "Web01.Example.COM"
    assert (
        modify(
            row,
            {"column": "h", "modifier": "regex_replace", "pattern": r"(?i)\.example\.com\s*$"},
        )["h"]
        == " Web01"
    )
    assert (
        modify(
            row,
            {
                "column": "h",
                "modifier": "regex_replace",
                "pattern": r"^\s*(\w+)\.(\w+).*",
                "replacement": r"\2-\1",
            },
        )["h"]
        == "Example-Web01"
    )
    assert modify(row, {"column": "g", "modifier": "split"})["g"] == ["web", "db"]
    assert modify(row, {"column": "g", "modifier": "split", "separator": " "})["g"] == [
        "web,",
        ",db",
    ]
    mapped = {"column": "os", "modifier": "map", "map": {"deb": "Debian"}}
    assert modify(row, mapped)["os"] == "Debian"
    assert modify({"os": "suse"}, mapped)["os"] == "suse"  # unmapped, no default: unchanged
    assert modify({"os": "suse"}, {**mapped, "default": "other"})["os"] == "other"
    default = {"column": "empty", "modifier": "default", "value": "n/a"}
    assert modify(row, default)["empty"] == "n/a"
    assert modify({}, {**default, "column": "new"})["new"] == "n/a"
    assert modify({"empty": None}, default)["empty"] == "n/a"
    assert modify({"empty": "x"}, default)["empty"] == "x"


def test_modifiers_apply_in_order_and_inside_lists() -> None:
    row = modify(
        {"groups": " Web , DB ", "n": 4, "missing_is_kept_missing": None},
        {"column": "groups", "modifier": "split"},
        {"column": "groups", "modifier": "lowercase"},
        {"column": "groups", "modifier": "map", "map": {"db": "databases"}},
        {"column": "n", "modifier": "uppercase"},  # not text: unchanged
        {"column": "absent", "modifier": "lowercase"},  # a missing column stays missing
    )
    assert row == {"groups": ["web", "databases"], "n": 4, "missing_is_kept_missing": None}
    # The other order: lowercase first, then split.
    assert modify(
        {"g": "A,B"},
        {"column": "g", "modifier": "lowercase"},
        {"column": "g", "modifier": "split"},
    ) == {"g": ["a", "b"]}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"column": "h", "modifier": "shout"}, "imports.x.modifiers[0].modifier"),
        ({"modifier": "lowercase"}, "imports.x.modifiers[0].column"),
        ({"column": "h", "modifier": "lowercase", "x": 1}, "imports.x.modifiers[0].x"),
        ({"column": "h", "modifier": "regex_replace"}, "imports.x.modifiers[0].pattern"),
        (
            {"column": "h", "modifier": "regex_replace", "pattern": "("},
            "imports.x.modifiers[0].pattern",
        ),
        (
            {"column": "h", "modifier": "regex_replace", "pattern": "a", "replacement": r"\3"},
            "imports.x.modifiers[0].replacement",
        ),
        ({"column": "h", "modifier": "split", "separator": ""}, "imports.x.modifiers[0].separator"),
        ({"column": "h", "modifier": "map", "map": ["a"]}, "imports.x.modifiers[0].map"),
        ({"column": "h", "modifier": "default"}, "imports.x.modifiers[0].value"),
    ],
)
def test_bad_modifiers_name_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_modifiers([spec], "imports.x.modifiers")
    assert caught.value.field == field


# -- JSON files --------------------------------------------------------------------------


def json_source(name: str = "api", **settings: Any) -> SourceSpec:
    """A JSON source definition."""
    return SourceSpec(name, "json", "hostname", settings)


def test_json_file_with_a_pointer_escaping_a_slash() -> None:
    rows = read(json_source(path=str(DATA / "hosts.json"), pointer="/data/host~1list"))
    assert [r["hostname"] for r in rows] == ["web01", "web02", "db01"]
    assert rows[0]["tags"] == ["a", "b"] and rows[1]["cpus"] == 2.5 and rows[2]["ip"] is None


@pytest.mark.parametrize(
    ("document", "pointer", "expected"),
    [
        ('{"a": [{"hostname": "x"}]}', "/b", "no key 'b' at '/b'"),
        ('{"a": [[{"hostname": "x"}]]}', "/a/1", "no element '1' in the list at '/a/1'"),
        ('{"a": [[{"hostname": "x"}]]}', "/a/01", "no element '01'"),
        ('{"a": "text"}', "/a/b", "'/a/b' goes into a str"),
        ('{"a": {"hostname": "x"}}', "/a", "there is a object, expected a list of objects"),
        ('[{"hostname": "x"}, 3]', "", "element 1 at the top level is a number"),
        ('{"a": [1,}', "", "is not valid JSON: Expecting value at line 1 column 10"),
        ('[{"hostname": NaN}]', "", "NaN is not a JSON value"),
    ],
)
def test_json_errors_name_the_source_and_cause(
    tmp_path: Path, document: str, pointer: str, expected: str
) -> None:
    path = tmp_path / "doc.json"
    path.write_text(document, encoding="utf-8")
    message = read_error(json_source(path=str(path), pointer=pointer))
    assert message.startswith("import source 'api': ") and expected in message


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "imports.api.settings.path"),
        ({"path": "/a.json", "url": "https://x/"}, "imports.api.settings.path"),
        ({"url": "ftp://host/x.json"}, "imports.api.settings.url"),
        ({"path": "/a.json", "pointer": "data"}, "imports.api.settings.pointer"),
        ({"path": "/a.json", "pointer": "/a~2"}, "imports.api.settings.pointer"),
        ({"path": "/a.json", "timeout": 0}, "imports.api.settings.timeout"),
        ({"path": "/a.json", "verify_tls": "no"}, "imports.api.settings.verify_tls"),
    ],
)
def test_json_settings_are_checked(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_source(json_source(**settings))
    assert caught.value.field == field


@pytest.mark.parametrize(
    "url",
    [
        "ftp://user:hunter2@host/x.json",
        "https://apiuser:hunter2@127.0.0.1/hosts.json",  # no port: urllib would echo it
        "https://apiuser:hunter2@127.0.0.1:8443/hosts.json",
        "https://hunter2@127.0.0.1/hosts.json",
    ],
)
def test_credentials_in_a_json_url_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_source(json_source(url=url))
    assert caught.value.field == "imports.api.settings.url"
    assert "hunter2" not in str(caught.value)
    assert "a user or password cannot be given in the URL" in str(caught.value)


def test_a_json_url_with_a_bad_port_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_source(json_source(url="https://127.0.0.1:abc/x.json"))
    assert str(caught.value) == (
        "imports.api.settings.url: invalid value 'https://127.0.0.1:abc/x.json': "
        "the port is not a number 1-65535"
    )


def test_unexpected_failures_still_name_the_source(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    message = read_error(json_source(path=str(deep)))
    assert message.startswith("import source 'api': RecursionError: "), message
    # (A lone surrogate, which failed here once, is stored replaced: test_poisonous_data.py.)


# -- JSON over HTTPS (a real server on 127.0.0.1 with a throwaway certificate) -------------


@dataclass
class HttpsServer:
    """The test server's base URL and the CA file that verifies it."""

    base: str
    ca_file: Path
    requests: list[str]
    authorizations: list[str | None]  # the Authorization header of each request, if any


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl."""
    if shutil.which("openssl") is None:
        missing("openssl", "apt-get install openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=director-jobs test",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[HttpsServer]:
    """Serve /hosts.json (200), /broken (500) and /slow over TLS on 127.0.0.1."""
    cert, key = _self_signed(tmp_path)
    body = (DATA / "hosts.json").read_bytes()
    seen: list[str] = []
    authorizations: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            authorizations.append(self.headers.get("Authorization"))
            if self.path == "/echo":  # a server that repeats what it was sent in its error
                self.send_error(401, f"denied: {self.headers.get('Authorization')}")
            elif self.path.startswith("/query.json?"):
                if "api_key=s3cret-token" in self.path:
                    self.path = "/hosts.json"  # served below
                else:
                    self.send_error(401, f"denied {self.path}")
                    return
            if self.path in ("/echo", "/query.json"):
                return
            if self.path == "/private.json" and self.headers.get("Authorization") not in (
                "Basic " + base64.b64encode(b"cmdb:s3cret-pw").decode(),
                "Bearer s3cret-token",
            ):
                self.send_error(401, "Unauthorized")
            elif self.path in ("/hosts.json", "/private.json"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path == "/to-other-host":
                self.send_response(302)
                port = self.server.server_port
                self.send_header("Location", f"https://localhost:{port}/hosts.json")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/to-plain-http":
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/x")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/cut-off":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) * 2))
                self.end_headers()
                self.wfile.write(body)  # half of what was announced, then the connection ends
                self.close_connection = True
            else:
                self.send_error(500, "database on fire")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HttpsServer(
            f"https://127.0.0.1:{server.server_address[1]}", cert, seen, authorizations
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_https_verification_fails_without_the_ca_and_works_with_it(
    https_server: HttpsServer,
) -> None:
    url = f"{https_server.base}/hosts.json"
    message = read_error(json_source(url=url, pointer="/data/host~1list"))
    assert message.startswith("import source 'api': cannot fetch ")
    assert "TLS certificate verification failed" in message
    rows = read(json_source(url=url, pointer="/data/host~1list", ca_file=str(https_server.ca_file)))
    assert [r["hostname"] for r in rows] == ["web01", "web02", "db01"]
    unverified = read(json_source(url=url, pointer="/data/host~1list", verify_tls=False))
    assert len(unverified) == 3


def test_https_ignores_proxies_from_the_environment(
    https_server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: would fail
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    spec = json_source(
        url=f"{https_server.base}/hosts.json",
        pointer="/data/host~1list",
        ca_file=str(https_server.ca_file),
    )
    assert len(read(spec)) == 3


def test_http_500_fails_the_import_job_naming_the_source(
    https_server: HttpsServer, db: Database, clock: FakeClock
) -> None:
    spec = json_source(url=f"{https_server.base}/broken", ca_file=str(https_server.ca_file))
    define_sources(db.engine, clock, spec)
    outcome, output = run_job(ImportJob(), {"source": "api"}, db.url, clock)
    assert outcome.status is RunStatus.ERROR
    assert outcome.error == (
        f"import source 'api': '{https_server.base}/broken' answered HTTP 500 database on fire"
    )
    assert "ERROR: import source 'api'" in output
    assert count_rows(db.engine, import_runs) == 0


def test_basic_and_bearer_authentication(
    https_server: HttpsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{https_server.base}/private.json"
    common = {"url": url, "pointer": "/data/host~1list", "ca_file": str(https_server.ca_file)}
    password_file = tmp_path / "password"
    password_file.write_text("s3cret-pw\n")
    rows = read(json_source(**common, user="cmdb", password_file=str(password_file)))
    assert [r["hostname"] for r in rows] == ["web01", "web02", "db01"]
    monkeypatch.setenv("CMDB_TOKEN", "s3cret-token")
    assert len(read(json_source(**common, token_env="CMDB_TOKEN"))) == 3

    monkeypatch.setenv("CMDB_TOKEN", "wrong-token")
    message = read_error(json_source(**common, token_env="CMDB_TOKEN"))
    assert message == f"import source 'api': '{url}' answered HTTP 401 Unauthorized"
    assert "wrong-token" not in message
    monkeypatch.delenv("CMDB_TOKEN")
    message = read_error(json_source(**common, token_env="CMDB_TOKEN"))
    assert message == "import source 'api': token_env: environment variable 'CMDB_TOKEN' is not set"


def test_a_server_repeating_the_credentials_cannot_leak_them(
    https_server: HttpsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    """It answers `401 denied: Bearer …`: the error, the run and its output show *** instead."""
    url = f"{https_server.base}/echo"
    common = {"url": url, "ca_file": str(https_server.ca_file)}
    monkeypatch.setenv("CMDB_TOKEN", "s3cret-token")
    message = read_error(json_source(**common, token_env="CMDB_TOKEN"))
    assert message == f"import source 'api': '{url}' answered HTTP 401 denied: ***"
    password_file = tmp_path / "password"
    password_file.write_text("s3cret-pw\n")
    message = read_error(json_source(**common, user="cmdb", password_file=str(password_file)))
    assert message == f"import source 'api': '{url}' answered HTTP 401 denied: Basic ***"

    clock = SystemClock()
    with db.engine.begin() as connection:
        ImportService(db.engine, clock).apply_in(
            connection, [json_source(**common, token_env="CMDB_TOKEN")], clock.now()
        )
    outcome, output = run_job(ImportJob(), {"source": "api"}, db.url, clock)
    assert outcome.status is RunStatus.ERROR
    assert outcome.error is not None and "s3cret" not in outcome.error + output
    assert "***" in outcome.error


def test_a_token_goes_in_the_query_only_through_token_param(
    https_server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CMDB_TOKEN", "s3cret-token")
    query = f"{https_server.base}/query.json?format=json"
    spec = json_source(
        url=query,
        pointer="/data/host~1list",
        ca_file=str(https_server.ca_file),
        token_env="CMDB_TOKEN",
        token_param="api_key",
    )
    assert len(read(spec)) == 3
    assert https_server.requests == ["/query.json?format=json&api_key=s3cret-token"]
    monkeypatch.setenv("CMDB_TOKEN", "wrong-token")
    message = read_error(spec)
    assert "wrong-token" not in message and "api_key=***" in message, message

    with pytest.raises(InvalidInput) as caught:
        validate_source(json_source(url=f"{query}&api_key=s3cret-token"))
    assert str(caught.value) == (
        f"imports.api.settings.url: invalid value '{query}&api_key=***': a credential "
        "in the query (api_key=…) would show in logs and exports: give it as token_file or "
        'token_env with token_param = "api_key"'
    )


def test_credentials_are_not_sent_on_to_another_host(
    https_server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CMDB_TOKEN", "s3cret-token")
    spec = json_source(
        url=f"{https_server.base}/to-other-host",
        pointer="/data/host~1list",
        ca_file=str(https_server.ca_file),
        token_env="CMDB_TOKEN",
    )
    assert len(read(spec)) == 3  # fetched from https://localhost:PORT/hosts.json
    assert https_server.requests == ["/to-other-host", "/hosts.json"]
    assert https_server.authorizations == ["Bearer s3cret-token", None]


@pytest.mark.parametrize(
    ("settings", "field", "expected"),
    [
        ({"user": "cmdb"}, "user", "basic authentication needs user and a password source"),
        ({"password_env": "X"}, "user", "basic authentication needs user and a password source"),
        (
            {"user": "a", "password_env": "X", "token_env": "Y"},
            "token_file",
            "give a user and password, or a token, not both",
        ),
        ({"token_env": "A", "token_file": "/t"}, "token_env", "give token_file or token_env"),
        ({"user": "a:b", "password_env": "X"}, "user", "expected a user name without ':'"),
    ],
)
def test_bad_json_credentials_are_refused_at_definition_time(
    settings: dict[str, Any], field: str, expected: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_source(json_source(url="https://cmdb.example.com/hosts.json", **settings))
    assert caught.value.field == f"imports.api.settings.{field}"
    assert caught.value.expected == expected


def test_credentials_are_only_sent_over_https() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_source(json_source(url="http://cmdb.example.com/h.json", token_env="T"))
    assert str(caught.value) == (
        "imports.api.settings.url: invalid value 'http://cmdb.example.com/h.json': "
        "credentials are only sent over https"
    )


def test_a_redirect_from_https_to_http_is_refused(https_server: HttpsServer) -> None:
    url = f"{https_server.base}/to-plain-http"
    message = read_error(json_source(url=url, ca_file=str(https_server.ca_file)))
    assert message.startswith("import source 'api': refused a redirect (HTTP 302) from https to ")
    assert https_server.requests == ["/to-plain-http"]  # nothing was fetched over plain http


def test_a_cut_off_download_fails_naming_the_source(https_server: HttpsServer) -> None:
    url = f"{https_server.base}/cut-off"
    message = read_error(json_source(url=url, ca_file=str(https_server.ca_file)))
    assert message.startswith(f"import source 'api': cannot fetch '{url}': "), message


def test_unreachable_server_and_missing_ca_file(tmp_path: Path) -> None:
    message = read_error(json_source(url=f"https://127.0.0.1:{unused_port()}/x", timeout=5))
    assert "cannot fetch" in message and "Connection refused" in message
    message = read_error(
        json_source(url="https://127.0.0.1:1/x", ca_file=str(tmp_path / "nope.pem"))
    )
    assert "cannot use ca_file" in message


def unused_port() -> int:
    """A port that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- SQL ---------------------------------------------------------------------------------


def sqlite_hosts(path: Path) -> Path:
    """A SQLite file with a table of hosts."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE hosts (name TEXT, ip TEXT, cpus INTEGER, load REAL)")
        connection.executemany(
            "INSERT INTO hosts VALUES (?, ?, ?, ?)",
            [("web01", "10.0.0.1", 4, 0.5), ("web02", None, 2, None), ("db%01", "x:y", 8, 1.0)],
        )
    connection.close()
    return path


def sql_source(url: str, query: str, **settings: Any) -> SourceSpec:
    """An SQL source definition keyed by `name`."""
    return SourceSpec("inventory", "sql", "name", {"url": url, "query": query, **settings})


def test_sql_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{sqlite_hosts(tmp_path / 'cmdb.db')}"
    rows = read(sql_source(url, "SELECT name, ip, cpus, load FROM hosts ORDER BY name"))
    assert rows == [
        {"name": "db%01", "ip": "x:y", "cpus": 8, "load": 1.0},
        {"name": "web01", "ip": "10.0.0.1", "cpus": 4, "load": 0.5},
        {"name": "web02", "ip": None, "cpus": 2, "load": None},
    ]
    # ':' and '%' in the query are the database's, not bind parameters.
    literal = read(sql_source(url, "SELECT name FROM hosts WHERE name LIKE 'db%' OR ip = 'x:y'"))
    assert literal == [{"name": "db%01"}]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELEKT * FROM hosts", 'near "SELEKT": syntax error'),
        ("SELECT * FROM nothere", "no such table: nothere"),
        ("SELECT name, ip AS name FROM hosts", "returns column 'name' twice"),
        ("UPDATE hosts SET ip = NULL", "returns no rows (expected a SELECT)"),
    ],
)
def test_sql_errors_name_the_source(tmp_path: Path, query: str, expected: str) -> None:
    url = f"sqlite:///{sqlite_hosts(tmp_path / 'cmdb.db')}"
    message = read_error(sql_source(url, query))
    assert message.startswith("import source 'inventory': ") and expected in message
    with sqlite3.connect(tmp_path / "cmdb.db") as connection:  # the UPDATE was rolled back
        assert connection.execute("SELECT count(*) FROM hosts WHERE ip IS NULL").fetchone() == (1,)
    connection.close()


def test_sql_missing_sqlite_file_is_an_error_not_an_empty_import(tmp_path: Path) -> None:
    message = read_error(sql_source(f"sqlite:///{tmp_path / 'gone.db'}", "SELECT 1 AS name"))
    assert "does not exist" in message
    assert not (tmp_path / "gone.db").exists()


def test_sql_password_in_the_url_is_refused_and_masked() -> None:
    spec = sql_source("postgresql+psycopg://cmdb:hunter2@db.example.com/cmdb", "SELECT 1")
    with pytest.raises(InvalidInput) as caught:
        validate_source(spec)
    assert caught.value.field == "imports.inventory.settings.url"
    assert "hunter2" not in str(caught.value) and "cmdb:***@db.example.com" in str(caught.value)
    assert "password_file or password_env" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://cmdb@db.example.com/cmdb?password=hunter2",
        "postgresql+psycopg://cmdb:p@hunter2@db.example.com/cmdb",  # an unescaped '@'
    ],
)
def test_sql_passwords_hidden_elsewhere_in_the_url_are_refused_too(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_source(sql_source(url, "SELECT 1"))
    assert caught.value.field == "imports.inventory.settings.url"
    assert "hunter2" not in str(caught.value)
    assert "password_file or password_env" in str(caught.value)


def test_sql_password_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{sqlite_hosts(tmp_path / 'cmdb.db')}"
    query = "SELECT name FROM hosts WHERE name = 'web01'"
    (tmp_path / "pw").write_text("s3cret\n", encoding="utf-8")
    assert read(sql_source(url, query, password_file=str(tmp_path / "pw"))) == [{"name": "web01"}]
    monkeypatch.setenv("CMDB_PW", "s3cret")
    assert read(sql_source(url, query, password_env="CMDB_PW")) == [{"name": "web01"}]
    monkeypatch.delenv("CMDB_PW")
    assert "'CMDB_PW' is not set" in read_error(sql_source(url, query, password_env="CMDB_PW"))
    message = read_error(sql_source(url, query, password_file=str(tmp_path / "nope")))
    assert "cannot read password_file" in message
    with pytest.raises(InvalidInput):
        validate_source(sql_source(url, query, password_file="/pw", password_env="PW"))


@pytest.mark.postgresql
def test_sql_on_postgresql_with_password_env(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    url = postgres.new_database()
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(
        f"host=127.0.0.1 port={postgres.port} user=postgres dbname={database}", autocommit=True
    ) as connection:
        connection.execute(
            "CREATE TABLE hosts (name text PRIMARY KEY, ip inet, cpus integer, "
            "memory numeric(6,1), seen timestamptz, tags text[])"
        )
        connection.execute(
            "INSERT INTO hosts VALUES "
            "('web01', '10.0.0.1', 4, 16.0, '2026-01-02 03:04:05+00', ARRAY['web','linux']), "
            "('db01', NULL, 8, 31.5, NULL, '{}')"
        )
    secret = "pg-s3cret-Ω"
    monkeypatch.setenv("CMDB_PASSWORD", secret)
    query = "SELECT name, ip, cpus, memory, seen, tags FROM hosts ORDER BY name"
    rows = read(sql_source(url, query, password_env="CMDB_PASSWORD"))
    assert rows == [
        {"name": "db01", "ip": None, "cpus": 8, "memory": 31.5, "seen": None, "tags": []},
        {
            "name": "web01",
            "ip": "10.0.0.1",
            "cpus": 4,
            "memory": 16,
            "seen": "2026-01-02T03:04:05+00:00",
            "tags": ["web", "linux"],
        },
    ]
    bad = read_error(sql_source(url, "SELECT nope FROM hosts", password_env="CMDB_PASSWORD"))
    assert 'column "nope" does not exist' in bad
    assert secret not in bad and "postgresql+psycopg://postgres@127.0.0.1" in bad
    closed = url.replace(f":{postgres.port}/", f":{unused_port()}/")
    down = read_error(sql_source(closed, "SELECT 1 AS name", password_env="CMDB_PASSWORD"))
    assert "failed" in down and secret not in down


# -- checksums and storage ----------------------------------------------------------------


def test_checksums_are_canonical() -> None:
    row = {"b": [1, "ü"], "a": None}
    assert canonical_json(row) == '{"a":null,"b":[1,"ü"]}'
    assert row_checksum(row) == hashlib.sha256('{"a":null,"b":[1,"ü"]}'.encode()).hexdigest()
    assert row_checksum({"a": None, "b": [1, "ü"]}) == row_checksum(row)
    assert run_checksum({"x": "1", "y": "2"}) == run_checksum({"y": "2", "x": "1"})
    assert run_checksum({"x": "1", "y": "2"}) != run_checksum({"x": "2", "y": "1"})


HOSTS = [
    {"hostname": "web01", "ip": "10.0.0.1", "os": "deb"},
    {"hostname": "web02", "ip": "10.0.0.2", "os": "rhel"},
    {"hostname": "db01", "ip": "10.0.0.3", "os": "deb"},
]


def test_unchanged_data_stores_nothing_and_rows_are_shared(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "hosts.csv", HOSTS)
    define_sources(db.engine, clock, csv_source("cmdb", path))
    service = ImportService(db.engine, clock)
    start = clock.now()
    first = service.run("cmdb")
    assert (first.status, first.rows) == (ImportStatus.STORED, 3)
    assert count_rows(db.engine, import_rows) == 3
    clock.advance(60)
    write_csv(path, list(reversed(HOSTS)))  # another order is the same data
    again = service.run("cmdb")
    assert (again.status, again.run_id, again.checksum) == (
        ImportStatus.UNCHANGED,
        None,
        first.checksum,
    )
    assert count_rows(db.engine, import_runs) == 1
    write_csv(path, [*HOSTS[:2], {**HOSTS[2], "ip": "10.0.0.33"}])
    changed = service.run("cmdb")
    assert changed.status is ImportStatus.STORED and changed.run_id != first.run_id
    assert count_rows(db.engine, import_runs) == 2
    assert count_rows(db.engine, import_rows) == 4  # two rows shared, one new
    assert count_rows(db.engine, import_run_rows) == 6
    with db.engine.connect() as connection:
        stored = service.store.run_rows(connection, changed.run_id or 0)
    assert stored["db01"] == {"hostname": "db01", "ip": "10.0.0.33", "os": "deb"}
    runs = service.store.runs("cmdb")
    assert [r.id for r in runs] == [changed.run_id, first.run_id]
    assert (runs[1].started_at, runs[1].row_count) == (start, 3)


def test_the_same_rows_in_two_sources_are_stored_once(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "hosts.csv", HOSTS)
    define_sources(db.engine, clock, csv_source("a", path), csv_source("b", path))
    service = ImportService(db.engine, clock)
    assert service.run("a").status is service.run("b").status is ImportStatus.STORED
    assert count_rows(db.engine, import_runs) == 2 and count_rows(db.engine, import_rows) == 3


def test_duplicate_keys_are_an_error_naming_the_key(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    rows = [*HOSTS, {"hostname": "WEB01", "ip": "10.9.9.9", "os": "deb"}]
    path = write_csv(tmp_path / "hosts.csv", rows)
    modifiers = [{"column": "hostname", "modifier": "lowercase"}]
    define_sources(db.engine, clock, csv_source("cmdb", path, modifiers=modifiers))
    with pytest.raises(SourceFailed) as caught:
        ImportService(db.engine, clock).run("cmdb")
    assert str(caught.value) == (
        "import source 'cmdb': duplicate key 'web01' in column 'hostname' (row 4)"
    )
    assert count_rows(db.engine, import_runs) == 0


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"name": "x"}], "row 1 has no key column 'hostname'"),
        (
            [{"hostname": "a", "ip": "1"}, {"hostname": "", "ip": "2"}],
            "row 2: key column 'hostname' has no usable value",
        ),
        ([{"hostname": "x" * 300}], "longer than 255 characters"),
    ],
)
def test_bad_keys(tmp_path: Path, rows: list[dict[str, str]], expected: str) -> None:
    message = read_error(csv_source("cmdb", write_csv(tmp_path / "k.csv", rows)))
    assert expected in message


def test_run_import_false_only_reports(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "hosts.csv", HOSTS)
    define_sources(db.engine, clock, csv_source("cmdb", path))
    outcome, output = run_job(ImportJob(), {"source": "cmdb", "run_import": False}, db.url, clock)
    assert outcome.status is RunStatus.SUCCESS and outcome.summary == "1 changed, 0 unchanged"
    assert "changed since the last import (not stored: run_import=false)" in output
    assert count_rows(db.engine, import_runs) == 0
    run_job(ImportJob(), {"source": "cmdb"}, db.url, clock)
    outcome, output = run_job(ImportJob(), {"source": "cmdb", "run_import": False}, db.url, clock)
    assert outcome.summary == "0 changed, 1 unchanged" and "unchanged, nothing stored" in output


# -- the import job type ----------------------------------------------------------------


def test_job_defaults_and_parameter_checks() -> None:
    job = ImportJob()
    assert job.default_parameters() == {"source": None, "run_import": True}
    assert job.validate({"source": "*"}) == {"source": "*", "run_import": True}
    assert job.runs_in_child is True  # Python code: forked, killable
    with pytest.raises(InvalidInput, match=r"parameters\.source: .*this parameter is required"):
        job.validate({})
    with pytest.raises(InvalidInput, match=r"parameters.source: invalid value 'a b'.*or \"\*\""):
        job.validate({"source": "a b"})
    with pytest.raises(InvalidInput, match=r"parameters\.run_import"):
        job.validate({"source": "x", "run_import": "yes"})


def test_job_imports_every_source_and_names_each_failure(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    good = write_csv(tmp_path / "good.csv", HOSTS)
    define_sources(
        db.engine,
        clock,
        csv_source("good", good),
        csv_source("gone", tmp_path / "missing.csv"),
        csv_source("same", good),
    )
    outcome, output = run_job(ImportJob(), {"source": "*"}, db.url, clock)
    assert outcome.status is RunStatus.ERROR
    assert outcome.error == (
        f"1 of 3 import sources failed: import source 'gone': cannot read "
        f"'{tmp_path / 'missing.csv'}': No such file or directory"
    )
    assert "INFO: import source good: 3 rows, stored as import run" in output
    assert "INFO: import source same: 3 rows, stored as import run" in output
    assert count_rows(db.engine, import_runs) == 2  # the good ones were stored anyway
    (tmp_path / "missing.csv").write_text("hostname\nx\n", encoding="utf-8")
    outcome, output = run_job(ImportJob(), {"source": "*"}, db.url, clock)
    assert (outcome.status, outcome.summary) == (RunStatus.SUCCESS, "1 stored, 2 unchanged")


def test_job_unknown_source_and_no_sources(db: Database, clock: FakeClock) -> None:
    outcome, _ = run_job(ImportJob(), {"source": "*"}, db.url, clock)
    assert outcome.error == 'source "*": no import sources are defined'
    outcome, _ = run_job(ImportJob(), {"source": "nope"}, db.url, clock)
    assert outcome.error == "import source 'nope' does not exist"


def provider_failures(tmp_path: Path) -> dict[str, tuple[SourceSpec, str]]:
    """One failing definition per provider error, with a fragment of the expected cause."""
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{oops", encoding="utf-8")
    good_json = tmp_path / "good.json"
    good_json.write_text('{"rows": [{"hostname": "a"}]}', encoding="utf-8")
    short = tmp_path / "short.csv"
    short.write_text("hostname,ip\na,1\nb\n", encoding="utf-8")
    nokey = write_csv(tmp_path / "nokey.csv", [{"name": "a"}])
    sqlite_file = sqlite_hosts(tmp_path / "cmdb.db")
    return {
        "missing file": (csv_source("src", tmp_path / "nope.csv"), "No such file or directory"),
        "bad csv": (csv_source("src", short), "at line 3: 1 fields, expected 2"),
        "bad json": (
            SourceSpec("src", "json", "hostname", {"path": str(bad_json)}),
            "is not valid JSON",
        ),
        "bad pointer": (
            SourceSpec("src", "json", "hostname", {"path": str(good_json), "pointer": "/hosts"}),
            "no key 'hosts'",
        ),
        "bad sql": (
            SourceSpec(
                "src", "sql", "name", {"url": f"sqlite:///{sqlite_file}", "query": "SELECT x"}
            ),
            "no such column: x",
        ),
        "missing key column": (csv_source("src", nokey), "has no key column 'hostname'"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing file", "bad csv", "bad json", "bad pointer", "bad sql", "missing key column"],
)
def test_every_provider_error_fails_the_run_naming_the_source(
    db: Database, clock: FakeClock, tmp_path: Path, case: str
) -> None:
    spec, cause = provider_failures(tmp_path)[case]
    define_sources(db.engine, clock, spec)
    outcome, _ = run_job(ImportJob(), {"source": "src"}, db.url, clock)
    assert outcome.status is RunStatus.ERROR
    assert outcome.error is not None and outcome.error.startswith("import source 'src': ")
    assert cause in outcome.error
    assert count_rows(db.engine, import_runs) == 0 and count_rows(db.engine, import_rows) == 0


# -- definitions (TOML) -------------------------------------------------------------------

TOML = r"""
[imports.cmdb]
provider = "csv"
key_column = "hostname"
description = "hosts from the CMDB"

[imports.cmdb.settings]
path = "/srv/cmdb/hosts.csv"
delimiter = ";"
header = ["hostname", "ip", "os"]

[[imports.cmdb.modifiers]]
column = "hostname"
modifier = "regex_replace"
pattern = '\.example\.com$'

[[imports.cmdb.modifiers]]
column = "os"
modifier = "map"
map = { deb = "Debian", "red hat" = "RHEL" }
default = "other"

[imports.api]
provider = "json"
key_column = "id"
settings = { url = "https://cmdb.example.com/api/hosts", pointer = "/data", timeout = 10 }
"""


def test_definitions_parse_and_export_round_trip() -> None:
    specs = parse_sources(tomllib.loads(TOML))
    assert [s.name for s in specs] == ["cmdb", "api"]
    cmdb = specs[0]
    assert cmdb.settings["header"] == ["hostname", "ip", "os"]
    assert cmdb.modifiers[1] == {
        "column": "os",
        "modifier": "map",
        "map": {"deb": "Debian", "red hat": "RHEL"},
        "default": "other",
    }
    text = export_sources(specs)
    assert parse_sources(tomllib.loads(text)) == specs
    for spec in specs:
        validate_source(spec)


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ("imports = 3", "imports"),
        ("[imports.a]\nprovider = 'csv'", "imports.a.key_column"),
        ("[imports.a]\nkey_column = 'x'", "imports.a.provider"),
        ("[imports.a]\nprovider = 'csv'\nkey_column = 'x'\npath = '/x'", "imports.a.path"),
        ("[imports.a]\nprovider = 'csv'\nkey_column = 'x'\nsettings = 1", "imports.a.settings"),
        ("[imports.a]\nprovider = 'csv'\nkey_column = 'x'\nmodifiers = 1", "imports.a.modifiers"),
    ],
)
def test_definition_shape_errors_name_the_field(toml: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_sources(tomllib.loads(toml))
    assert caught.value.field == field


def test_apply_in_reports_created_updated_unchanged(db: Database, clock: FakeClock) -> None:
    service = ImportService(db.engine, clock)
    specs = parse_sources(tomllib.loads(TOML))
    with db.engine.begin() as connection:
        assert service.apply_in(connection, specs, clock.now()) == (["cmdb", "api"], [], [])
    changed = [specs[0], SourceSpec("api", "json", "id", {"path": "/srv/hosts.json"})]
    with db.engine.begin() as connection:
        assert service.apply_in(connection, changed, clock.now()) == ([], ["api"], ["cmdb"])
    assert service.store.get("api").settings == {"path": "/srv/hosts.json"}
    bad = SourceSpec("bad", "xml", "id", {})
    with (
        pytest.raises(InvalidInput, match=r"imports.bad.provider: invalid value 'xml'"),
        db.engine.begin() as connection,
    ):
        service.apply_in(connection, [bad], clock.now())
    assert service.names() == ["api", "cmdb"]
    with pytest.raises(NotFound, match="no import source named 'bad'"):
        service.store.get("bad")
    with db.engine.begin() as connection:
        assert service.prune_in(connection, {"cmdb"}) == ["api"]
    assert service.names() == ["cmdb"]


# -- CLI ----------------------------------------------------------------------------------


def test_cli_list_show_preview(sqlite_url: str, tmp_path: Path) -> None:
    database = Database.open(sqlite_url)
    real = SystemClock()
    modifiers = [{"column": "hostname", "modifier": "uppercase"}]
    define_sources(
        database.engine,
        real,
        csv_source("cmdb", write_csv(tmp_path / "h.csv", HOSTS), modifiers=modifiers),
        sql_source(
            "postgresql+psycopg://cmdb@db.example.com/cmdb", "SELECT 1", password_env="CMDB_PW"
        ),
    )
    ImportService(database.engine, real).run("cmdb")
    database.dispose()

    listed = invoke(sqlite_url, "imports", "list")
    assert listed.exit_code == 0
    assert listed.output.splitlines()[0].split() == [
        "NAME",
        "PROVIDER",
        "KEY",
        "ROWS",
        "LAST",
        "STORED",
        "IMPORT",
    ]
    assert "cmdb" in listed.output and "never" in listed.output
    data = json.loads(invoke(sqlite_url, "imports", "list", "--json").output)
    assert [(d["name"], d["last_run"] and d["last_run"]["rows"]) for d in data] == [
        ("cmdb", 3),
        ("inventory", None),
    ]

    shown = invoke(sqlite_url, "imports", "show", "inventory")
    assert shown.exit_code == 0
    assert "password_env = CMDB_PW" in shown.output and "none yet" in shown.output
    shown_json = json.loads(invoke(sqlite_url, "imports", "show", "cmdb", "--json").output)
    assert shown_json["runs"][0]["rows"] == 3 and shown_json["modifiers"] == modifiers

    before = json.loads(invoke(sqlite_url, "imports", "list", "--json").output)
    preview = invoke(sqlite_url, "imports", "preview", "cmdb", "--limit", "2")
    assert preview.exit_code == 0
    assert preview.output.splitlines() == [
        "HOSTNAME  IP        OS",
        "WEB01     10.0.0.1  deb",
        "WEB02     10.0.0.2  rhel",
    ]
    rows = json.loads(invoke(sqlite_url, "imports", "preview", "cmdb", "--json").output)
    assert len(rows) == 3 and rows[2]["hostname"] == "DB01"
    assert json.loads(invoke(sqlite_url, "imports", "list", "--json").output) == before


def test_cli_bad_input_is_one_line_and_exit_2(sqlite_url: str) -> None:
    for args in (
        ("imports", "show", "nope"),
        ("imports", "preview", "nope"),
        ("imports", "preview", "nope", "--limit", "0"),
    ):
        result = invoke(sqlite_url, *args)
        assert result.exit_code == 2, args
        assert len(result.output.strip().splitlines()) == 1
        assert result.output.startswith("director: error: ")


def test_cli_preview_of_a_broken_source_fails_naming_it(sqlite_url: str, tmp_path: Path) -> None:
    database = Database.open(sqlite_url)
    define_sources(database.engine, SystemClock(), csv_source("cmdb", tmp_path / "none.csv"))
    database.dispose()
    result = invoke(sqlite_url, "imports", "preview", "cmdb")
    assert result.exit_code == 1
    assert result.output.startswith("director: error: import source 'cmdb': cannot read")
