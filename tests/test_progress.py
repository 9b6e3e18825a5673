"""Progress from inside a job: the `::progress` line protocol, the rate limit of
context.progress, an import's rows read, and a running command's progress as another
process sees it (`director status`, `jobs show`, `jobs history --json`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import DIRECTOR, director_env, invoke, run_director, wait_for
from test_deploy_support import context

from director_jobs.execution.inprocess import execute_in_process
from director_jobs.job_types.importer import ImportJob
from director_jobs.model import RunStatus
from director_jobs.progress import Progress, line_of, parse


def test_progress_lines_are_read_with_and_without_a_percentage() -> None:
    assert parse("::progress 40% copying /var/backups") == Progress("copying /var/backups", 0.4)
    assert parse("::progress 12000 rows read") == Progress("12000 rows read", None)
    assert parse("::progress 150% over the top") == Progress("150% over the top", None)
    assert parse("progress 40% not the protocol") is None
    long = parse("::progress " + "x" * 500)
    assert long is not None and len(long.message) == 200 and long.message.endswith("…")
    assert line_of("copying  the\nfiles", 0.25) == "::progress 25% copying the files"
    assert Progress("copying", 0.25).text() == "25% copying"


def test_context_progress_keeps_one_report_a_second_and_the_last_one(sqlite_url: str) -> None:
    ctx = context(sqlite_url, name="counting")
    for number in range(1, 1001):
        ctx.progress(f"{number} done", number / 1000)
    lines = [line for line in ctx.output.text().splitlines() if line.startswith("::progress")]
    # The first report passes, the 998 after it within the second are dropped, and the
    # one that says it is done (fraction 1) always passes.
    assert lines[0] == "::progress 0% 1 done" and lines[-1] == "::progress 100% 1000 done"
    assert len(lines) < 10
    assert ctx.output.progress == Progress("1000 done", 1.0)


def test_an_import_reports_the_rows_it_has_read(sqlite_url: str, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.csv"
    hosts.write_text("hostname\n" + "".join(f"host{n:05d}\n" for n in range(3500)))
    definitions = tmp_path / "imports.toml"
    definitions.write_text(
        f'[imports.cmdb]\nprovider = "csv"\nkey_column = "hostname"\n'
        f'settings = {{ path = "{hosts}" }}\n'
    )
    assert run_director(sqlite_url, "apply", str(definitions)).returncode == 0
    job = ImportJob()
    ctx = context(sqlite_url, name="import-cmdb")
    outcome = execute_in_process(job, job.validate({"source": "cmdb"}), ctx)
    assert outcome.status is RunStatus.SUCCESS, outcome.error
    assert "::progress source cmdb: 1000 rows read" in ctx.output.text().splitlines()
    assert ctx.output.progress is not None and ctx.output.progress.message.endswith("rows read")


def test_a_running_commands_progress_is_seen_from_another_process(
    db_url: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    script = f"echo '::progress 40% copying'; while [ ! -e {gate} ]; do sleep 0.1; done"
    added = invoke(db_url, "jobs", "add", "copy", "--type", "command",
                   "--parameters", json.dumps({"command": script, "shell": True}))  # fmt: skip
    assert added.exit_code == 0, added.output
    process = subprocess.Popen(
        [*DIRECTOR, "jobs", "run", "copy"],
        env=director_env(db_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def reported() -> list[dict[str, object]]:
            status = json.loads(run_director(db_url, "status", "--json").stdout)
            return [
                run
                for runner in status["runners"]
                for run in runner["running"]
                if run["progress"] == "40% copying"
            ]

        (running,) = wait_for(reported, "the progress in director status")
        shown = run_director(db_url, "jobs", "show", "copy").stdout
        assert f"#{running['run_id']} running " in shown and "40% copying" in shown
        (run,) = json.loads(run_director(db_url, "jobs", "history", "copy", "--json").stdout)
        assert run["status"] == "running" and run["progress"] == "40% copying"
        human = run_director(db_url, "status").stdout
        assert "copy (run " in human and ": 40% copying" in human
    finally:
        gate.touch()
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
