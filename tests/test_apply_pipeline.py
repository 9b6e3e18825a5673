"""`director apply` / `export` of import sources and sync rules, on SQLite and PostgreSQL:
one transaction with jobs and periods, validated before anything is written, prunable."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from click.testing import Result
from conftest import invoke

PIPELINE = """\
    [imports.cmdb]
    provider = "csv"
    key_column = "hostname"
    description = "Hosts from the CMDB export"
    settings = {{ path = "{csv}" }}
    modifiers = [{{ column = "hostname", modifier = "lowercase" }}]

    [sync_rules.hosts]
    source = "cmdb"
    object_type = "host"
    properties = {{ object_name = "${{hostname}}", address = "${{ip}}", imports = ["generic"] }}
    filter = 'env != "test"'
    purge = true

    [jobs.import-cmdb]
    type = "import"
    interval = "15m"
    parameters = {{ source = "cmdb" }}

    [jobs.sync-hosts]
    type = "sync"
    interval = "15m"
    parameters = {{ rule = "hosts" }}
"""


def write(tmp_path: Path, text: str, name: str = "pipeline.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def pipeline(tmp_path: Path) -> Path:
    csv = tmp_path / "hosts.csv"
    csv.write_text("hostname,ip,env\nWEB01,192.0.2.1,prod\nweb02,192.0.2.2,test\n", "utf-8")
    return write(tmp_path, PIPELINE.format(csv=csv))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def listed(url: str, *command: str) -> list[dict[str, Any]]:
    return list(json.loads(ok(invoke(url, *command, "--json")).stdout))


def definitions(url: str, *command: str) -> list[dict[str, Any]]:
    """A `list --json` without the run each item last had."""
    return [{k: v for k, v in item.items() if k != "last_run"} for item in listed(url, *command)]


def test_apply_defines_sources_and_rules_with_the_jobs(db_url: str, tmp_path: Path) -> None:
    path = pipeline(tmp_path)
    report = json.loads(ok(invoke(db_url, "apply", str(path), "--json")).stdout)
    assert report["created"] == ["import-cmdb", "sync-hosts"]
    assert report["imports"] == {
        "created": ["cmdb"],
        "updated": [],
        "unchanged": [],
        "deleted": [],
    }
    assert report["sync_rules"]["created"] == ["hosts"]

    sources = listed(db_url, "imports", "list")
    assert [(s["name"], s["provider"], s["key_column"]) for s in sources] == [
        ("cmdb", "csv", "hostname")
    ]
    rules = listed(db_url, "sync", "list")
    assert [(r["name"], r["source"], r["filter"], r["purge"]) for r in rules] == [
        ("hosts", "cmdb", 'env != "test"', True)
    ]
    assert rules[0]["properties"]["address"] == "${ip}"

    again = json.loads(ok(invoke(db_url, "apply", str(path), "--json")).stdout)
    assert again["imports"]["unchanged"] == ["cmdb"]
    assert again["sync_rules"]["unchanged"] == ["hosts"]
    assert again["unchanged"] == ["import-cmdb", "sync-hosts"]


def test_text_report_names_each_section(db_url: str, tmp_path: Path) -> None:
    shown = ok(invoke(db_url, "apply", str(pipeline(tmp_path)), "--dry-run")).stdout
    assert "would be created import source: cmdb" in shown
    assert "would be created sync rule: hosts" in shown
    assert "would be created: import-cmdb" in shown
    assert listed(db_url, "imports", "list") == []  # a dry run writes nothing
    assert listed(db_url, "sync", "list") == []


def test_export_round_trips_sources_and_rules(db_url: str, other_url: str, tmp_path: Path) -> None:
    ok(invoke(db_url, "apply", str(pipeline(tmp_path))))
    exported = ok(invoke(db_url, "export")).stdout
    assert "[imports.cmdb]" in exported
    assert "[sync_rules.hosts]" in exported
    copy = write(tmp_path, exported, "exported.toml")
    ok(invoke(other_url, "apply", str(copy)))
    for command in (("imports", "list"), ("sync", "list")):
        assert definitions(other_url, *command) == definitions(db_url, *command)
    second = json.loads(ok(invoke(other_url, "apply", str(copy), "--json")).stdout)
    assert second["imports"]["unchanged"] == ["cmdb"]
    assert second["sync_rules"]["unchanged"] == ["hosts"]


def test_a_bad_rule_changes_nothing_and_names_the_field(db_url: str, tmp_path: Path) -> None:
    path = pipeline(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "filter = 'env != \"test\"'", "filter = 'env !! \"test\"'"
    )
    path.write_text(text, encoding="utf-8")
    result = invoke(db_url, "apply", str(path))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("director: error: sync_rules.hosts.filter:"), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert listed(db_url, "imports", "list") == []
    assert listed(db_url, "jobs", "list") == []


def test_a_rule_naming_an_unknown_source_is_refused(db_url: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [sync_rules.hosts]
        source = "nowhere"
        object_type = "host"
        properties = { object_name = "${hostname}" }
        """,
    )
    result = invoke(db_url, "apply", str(path))
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        "director: error: sync_rules.hosts.source: invalid value 'nowhere': "
        "no import source of that name; define it under [imports.NAME]"
    )
    assert listed(db_url, "sync", "list") == []


def test_a_bad_source_setting_is_refused(db_url: str, tmp_path: Path) -> None:
    path = pipeline(tmp_path)
    text = path.read_text(encoding="utf-8").replace(str(tmp_path / "hosts.csv"), "hosts.csv")
    path.write_text(text, encoding="utf-8")
    result = invoke(db_url, "apply", str(path))
    assert result.exit_code == 2, result.output
    assert "imports.cmdb.settings.path" in result.stderr
    assert "'hosts.csv'" in result.stderr
    assert listed(db_url, "imports", "list") == []


def test_prune_removes_rules_then_sources_the_file_dropped(db_url: str, tmp_path: Path) -> None:
    ok(invoke(db_url, "apply", str(pipeline(tmp_path))))
    only_jobs = write(
        tmp_path,
        """\
        [jobs.self-check]
        type = "self-check"
        interval = "1h"
        """,
        "only-jobs.toml",
    )
    report = json.loads(ok(invoke(db_url, "apply", str(only_jobs), "--prune", "--json")).stdout)
    assert report["sync_rules"]["deleted"] == ["hosts"]
    assert report["imports"]["deleted"] == ["cmdb"]
    assert report["deleted"] == ["import-cmdb", "sync-hosts"]
    assert listed(db_url, "imports", "list") == []
    assert listed(db_url, "sync", "list") == []


def test_prune_refuses_a_source_that_a_kept_rule_uses(db_url: str, tmp_path: Path) -> None:
    ok(invoke(db_url, "apply", str(pipeline(tmp_path))))
    rule_only = write(
        tmp_path,
        """\
        [sync_rules.hosts]
        source = "cmdb"
        object_type = "host"
        properties = { object_name = "${hostname}" }
        """,
        "rule-only.toml",
    )
    result = invoke(db_url, "apply", str(rule_only), "--prune")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        "director: error: imports: invalid value 'cmdb': cannot prune: sync rules hosts use it"
    )
    assert [s["name"] for s in listed(db_url, "imports", "list")] == ["cmdb"]
    assert [j["name"] for j in listed(db_url, "jobs", "list")] == ["import-cmdb", "sync-hosts"]
