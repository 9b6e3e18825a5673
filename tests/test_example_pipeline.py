"""The example pipeline that the README's first command runs: examples/jobs.toml, filled in as
scripts/quickstart.sh fills it, applied and run as real processes against SQLite and icinga2."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import run_director
from example import EXAMPLES, PIPELINE, filled_in
from icinga import require_icinga2

# hosts.csv holds 50 hosts, 6 of them in environment "test", which the sync rule filters out.
CSV_HOSTS, TEST_HOSTS = 50, 6


def history(url: str) -> list[dict[str, Any]]:
    result = run_director(url, "jobs", "history", "--json", "--limit", "100")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_the_placeholders_are_all_filled_in(tmp_path: Path) -> None:
    text = filled_in(tmp_path).read_text(encoding="utf-8")
    assert "@" not in re.sub(r"#.*", "", text), "a placeholder survived"
    assert f'path = "{EXAMPLES}/hosts.csv"' in text
    assert f'path = "{tmp_path}/icinga2/director-jobs"' in text


@pytest.mark.slow
def test_the_example_pipeline_renders_a_configuration_icinga2_accepts(
    sqlite_url: str, tmp_path: Path
) -> None:
    require_icinga2()
    applied = run_director(sqlite_url, "apply", str(filled_in(tmp_path)))
    assert applied.returncode == 0, applied.stderr
    nights_open = run_director(sqlite_url, "timeperiods", "check", "nights").returncode == 0

    ran = run_director(sqlite_url, "jobs", "run", "--verbose", timeout=120)
    assert ran.returncode == 0, ran.stderr
    runs = {run["job"]: run for run in history(sqlite_url)}
    for name in [*PIPELINE, "self-check"]:
        assert runs[name]["status"] == "success", runs[name]
    order = re.findall(r"starting job (\S+)", ran.stderr)
    assert order[:3] == PIPELINE, ran.stderr  # in the order the file defines them
    # Housekeeping waits for its `nights` period (runs only when the test runs at night).
    assert ("housekeeping" in runs) == nights_open, ran.stderr

    hosts = json.loads(run_director(sqlite_url, "objects", "list", "--json").stdout)
    assert len(hosts) == CSV_HOSTS - TEST_HOSTS
    web09 = next(h for h in hosts if h["name"] == "web09.example.com")  # WEB09… in the CSV
    assert web09["properties"]["vars"]["services"] == ["http", "https"]

    rendered = (tmp_path / "icinga2" / "director-jobs" / "hosts.conf").read_text("utf-8")
    assert rendered.count("object Host ") == CSV_HOSTS - TEST_HOSTS
    deployments = json.loads(run_director(sqlite_url, "deployments", "list", "--json").stdout)
    assert [d["status"] for d in deployments] == ["deployed"]
    shown = run_director(sqlite_url, "deployments", "show", str(deployments[0]["id"]))
    assert f"Instantiated {CSV_HOSTS - TEST_HOSTS} Hosts" in shown.stdout

    # Run the whole pipeline again by hand: nothing changed, so nothing is stored or deployed.
    again = run_director(sqlite_url, "jobs", "run", *PIPELINE, timeout=120)
    assert again.returncode == 0, again.stderr
    outputs = {
        r["job"]: r
        for r in json.loads(
            run_director(sqlite_url, "jobs", "history", "--json", "--output", "--limit", "3").stdout
        )
    }
    assert "unchanged" in outputs["import-cmdb"]["output"]
    assert "0 create / 0 modify / 0 delete" in outputs["sync-hosts"]["output"]
    assert "unchanged" in outputs["deploy-config"]["output"]

    # When all is well the example is quiet: nothing for cron to mail.
    quiet = run_director(sqlite_url, "jobs", "run", "self-check")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
