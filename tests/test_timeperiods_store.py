"""Time periods stored in the database, used by the runner and the CLI (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import invoke

from director_jobs.clock import FakeClock
from director_jobs.db.database import Database
from director_jobs.job_types.registry import Registry
from director_jobs.model import JobSpec, PeriodSpec
from director_jobs.runner import Runner
from director_jobs.services.jobs import JobService
from director_jobs.services.periods import PeriodService
from director_jobs.validation import zone

WORKDAYS = {day: "09:00-17:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def services(database: Database, clock: FakeClock) -> tuple[PeriodService, JobService, Runner]:
    periods = PeriodService(database, clock, "Europe/Berlin")
    jobs = JobService(database, Registry(), clock, "Europe/Berlin", periods)
    runner = Runner(database, Registry(), clock, default_timezone="Europe/Berlin", periods=periods)
    return periods, jobs, runner


def test_a_job_waits_for_its_period_and_runs_when_it_opens(database: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 20, 0, tzinfo=UTC))  # Monday 21:00 in Berlin
    periods, jobs, runner = services(database, clock)
    periods.add(PeriodSpec("workhours", WORKDAYS))
    jobs.add(JobSpec(name="hourly", type="self-check", interval=3600, timeperiod="workhours"))

    wait = runner.run_once()
    assert database.runs.history("hourly", 10) == []
    opens = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00 CET
    assert database.jobs.get("hourly").next_due_at == opens
    assert wait == (opens - clock.now()).total_seconds()  # wakes at the transition

    clock.advance(wait or 0)
    runner.run_once()
    runs = database.runs.history("hourly", 10)
    assert [r.status.value for r in runs] == ["success"]
    assert runs[0].started_at == opens


def test_a_manual_trigger_ignores_the_period(database: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))  # Sunday
    periods, jobs, runner = services(database, clock)
    periods.add(PeriodSpec("workhours", WORKDAYS))
    jobs.add(JobSpec(name="report", type="self-check", interval=3600, timeperiod="workhours"))
    with database.engine.begin() as connection:
        database.jobs.request_run(connection, "report", clock.now())
    runner.run_once()
    assert [(r.status.value, r.trigger.value) for r in database.runs.history("report", 5)] == [
        ("success", "manual")
    ]


def test_jobs_next_skips_the_night(database: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # Monday 15:30 CET
    periods, jobs, _ = services(database, clock)
    periods.add(PeriodSpec("workhours", WORKDAYS))
    job = jobs.add(JobSpec(name="hourly", type="self-check", interval=3600, timeperiod="workhours"))
    berlin = [
        t.astimezone(zone("Europe/Berlin")).strftime("%a %H:%M") for t in jobs.upcoming(job, 5)
    ]
    assert berlin == ["Mon 15:30", "Mon 16:30", "Tue 09:00", "Tue 10:00", "Tue 11:00"]


def test_references_and_deletion_rules(database: Database, clock: FakeClock) -> None:
    periods, jobs, _ = services(database, clock)
    periods.add(PeriodSpec("holidays", {"2026-12-24": "00:00-24:00"}))
    periods.add(PeriodSpec("work", WORKDAYS, excludes=("holidays",), prefer_includes=False))
    with pytest.raises(ValueError, match="includes"):
        periods.add(PeriodSpec("broken", {}, includes=("nope",)))
    jobs.add(JobSpec(name="j", type="self-check", timeperiod="work"))
    with pytest.raises(ValueError, match="still used by jobs: j"):
        periods.delete("work")
    with pytest.raises(ValueError, match="included or excluded by: work"):
        periods.delete("holidays")
    assert [p.name for p in database.periods.all()] == ["holidays", "work"]


def test_cli_add_check_next_and_errors(sqlite_url: str) -> None:
    ranges = [a for day, value in WORKDAYS.items() for a in ("--range", f"{day}={value}")]
    assert (
        invoke(
            sqlite_url, "timeperiods", "add", "workhours", *ranges, "--timezone", "Europe/Berlin"
        ).exit_code
        == 0
    )
    active = invoke(sqlite_url, "timeperiods", "check", "workhours", "--at", "2026-11-23T10:00")
    assert active.exit_code == 0
    assert active.stdout.strip() == (
        "workhours is active at 2026-11-23 10:00:00 CET: "
        "since 2026-11-23 09:00:00 CET until 2026-11-23 17:00:00 CET"
    )
    inactive = invoke(
        sqlite_url,
        "timeperiods",
        "check",
        "workhours",
        "--at",
        "2026-11-22T10:00:00+00:00",
        "--json",
    )
    assert inactive.exit_code == 1
    data = json.loads(inactive.stdout)
    assert (data["active"], data["since"], data["until"]) == (
        False,
        "2026-11-20T16:00:00Z",
        "2026-11-23T08:00:00Z",
    )
    upcoming = invoke(sqlite_url, "timeperiods", "next", "workhours", "-n", "2", "--json")
    assert len(json.loads(upcoming.stdout)) == 2

    bad = invoke(sqlite_url, "timeperiods", "add", "bad", "--range", "monday 0=09:00-10:00")
    assert bad.exit_code == 2
    assert "ranges key 'monday 0'" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    for args, fragment in (
        (("add", "x", "--range", "monday"), "range: invalid value 'monday': expected KEY=VALUE"),
        (("add", "x", "--range", "monday=25:00-26:00"), "monday"),
        (("add", "x", "--timezone", "Mars/Base"), "timezone: invalid value 'Mars/Base'"),
        (("add", "x", "--include", "nope"), "nope"),
        (("add", "workhours"), "exists already"),
        (("check", "workhours", "--at", "yesterday"), "at: invalid value 'yesterday'"),
        (("check", "nope"), "no time period named 'nope'"),
    ):
        result = invoke(sqlite_url, "timeperiods", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert fragment in result.stderr, (args, result.stderr)
    listed = json.loads(invoke(sqlite_url, "timeperiods", "list", "--json").stdout)
    assert [p["name"] for p in listed] == ["workhours"]  # nothing else was stored


def test_apply_defines_periods_and_jobs_together_and_export_round_trips(
    db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "defs.toml"
    file.write_text(
        """
[timeperiods.nights]
timezone = "Europe/Berlin"
ranges = { monday = "22:00-06:00", "day -1" = "00:00-24:00" }
excludes = ["xmas"]

[timeperiods.xmas]
display_name = "Christmas \\"Eve\\""
ranges = { "2026-12-24" = "00:00-24:00" }

[jobs.cleanup]
type = "self-check"
cron = "0 * * * *"
timeperiod = "nights"
"""
    )
    first = invoke(db_url, "apply", str(file), "--json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["created"] == ["cleanup"] and sorted(report["timeperiods"]["created"]) == [
        "nights",
        "xmas",
    ]
    again = json.loads(invoke(db_url, "apply", str(file), "--json").stdout)
    assert again["timeperiods"]["unchanged"] == ["nights", "xmas"] and again["unchanged"] == [
        "cleanup"
    ]

    exported = invoke(db_url, "export").stdout
    copy = tmp_path / "copy.toml"
    copy.write_text(exported)
    assert json.loads(invoke(db_url, "apply", str(copy), "--json", "--prune").stdout)[
        "timeperiods"
    ]["unchanged"] == ["nights", "xmas"]

    # A job that refers to an unknown period makes the whole file fail, nothing written.
    file.write_text(file.read_text() + '\n[jobs.other]\ntype = "self-check"\ntimeperiod = "nope"\n')
    failed = invoke(db_url, "apply", str(file))
    assert failed.exit_code == 2 and "timeperiod: invalid value 'nope'" in failed.stderr
    assert [j["name"] for j in json.loads(invoke(db_url, "jobs", "list", "--json").stdout)] == [
        "cleanup"
    ]

    # Pruning a period that a kept job uses fails and changes nothing.
    only_job = tmp_path / "only-job.toml"
    only_job.write_text(
        '[jobs.cleanup]\ntype = "self-check"\ncron = "0 * * * *"\ntimeperiod = "nights"\n'
    )
    pruned = invoke(db_url, "apply", str(only_job), "--prune")
    assert pruned.exit_code == 2
    assert len(json.loads(invoke(db_url, "timeperiods", "list", "--json").stdout)) == 2


def test_timeperiods_are_re_read_each_pass(database: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))  # Sunday
    periods, jobs, runner = services(database, clock)
    periods.add(PeriodSpec("weekend", {"saturday": "00:00-24:00"}))
    jobs.add(JobSpec(name="j", type="self-check", interval=60, timeperiod="weekend"))
    runner.run_once()
    assert database.runs.history("j", 5) == []
    assert database.jobs.get("j").next_due_at == datetime(
        2026, 11, 28, 0, 0, tzinfo=UTC
    ) - timedelta(hours=1)
    with database.engine.begin() as connection:
        sunday_too = {"saturday": "00:00-24:00", "sunday": "00:00-24:00"}
        periods.apply_in(connection, [PeriodSpec("weekend", sunday_too)], clock.now())
    # The changed period puts the postponed job back: it runs now, on Sunday.
    runner.run_once()
    assert [r.started_at for r in database.runs.history("j", 5)] == [clock.now()]


def test_import_from_an_icinga_conf_file(sqlite_url: str, tmp_path: Path) -> None:
    conf = tmp_path / "timeperiods.conf"
    conf.write_text(
        """
object TimePeriod "workhours" {
  import "legacy-timeperiod"
  display_name = "Work hours"
  ranges = {
    monday = "09:00-17:00"
    "friday" = "09:00-15:00"
  }
  excludes = [ "holidays" ]
}
object TimePeriod "holidays" {
  ranges = { "2026-12-24" = "00:00-24:00" }
}
object TimePeriod "weekdays" {
  ranges = { "monday - friday" = "00:00-24:00" }
}
object Host "web1" { address = "127.0.0.1" }
"""
    )
    first = invoke(sqlite_url, "timeperiods", "import", str(conf), "--timezone", "Europe/Berlin")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("3 created, 0 updated, 0 unchanged")
    assert 'object Host "web1" ignored' in first.stderr
    assert (
        "warning: period 'weekdays': key 'monday - friday': Icinga 2 matches only Mondays"
        in first.stderr
    )
    shown = json.loads(invoke(sqlite_url, "timeperiods", "show", "workhours", "--json").stdout)
    assert shown["ranges"] == {"monday": "09:00-17:00", "friday": "09:00-15:00"}
    assert shown["excludes"] == ["holidays"] and shown["timezone"] == "Europe/Berlin"
    assert shown["display_name"] == "Work hours"
    again = invoke(sqlite_url, "timeperiods", "import", str(conf), "--timezone", "Europe/Berlin")
    assert again.stdout.startswith("0 created, 0 updated, 3 unchanged")

    broken = tmp_path / "broken.conf"
    broken.write_text('object TimePeriod "x" {\n  ranges = { monday = "09:00-17:00" \n')
    result = invoke(sqlite_url, "timeperiods", "import", str(broken))
    assert result.exit_code == 2 and result.stderr.startswith(f"director: error: {broken}:")
    invalid = tmp_path / "invalid.conf"
    invalid.write_text('object TimePeriod "y" { ranges = { "monday 0" = "09:00-10:00" } }\n')
    result = invoke(sqlite_url, "timeperiods", "import", str(invalid))
    assert result.exit_code == 2 and "monday 0" in result.stderr
    missing = invoke(sqlite_url, "timeperiods", "import", str(tmp_path / "nope.conf"))
    assert missing.exit_code == 2 and "file: invalid value" in missing.stderr
    names = [
        p["name"] for p in json.loads(invoke(sqlite_url, "timeperiods", "list", "--json").stdout)
    ]
    assert names == ["holidays", "weekdays", "workhours"]


def test_cli_delete_show_and_jobs_next_honour_the_period(sqlite_url: str) -> None:
    """Through the CLI: a used period is not deleted; show gives 5 windows; next skips nights."""
    ranges = ("--range", "monday=09:00-17:00", "--range", "tuesday=09:00-17:00")
    added = invoke(sqlite_url, "timeperiods", "add", "wh", *ranges, "--timezone", "UTC")
    assert added.exit_code == 0, added.output
    job = ("--cron", "0 * * * *", "--timezone", "UTC", "--timeperiod", "wh")
    assert invoke(sqlite_url, "jobs", "add", "hourly", "--type", "self-check", *job).exit_code == 0

    refused = invoke(sqlite_url, "timeperiods", "delete", "wh")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "director: error: timeperiod: invalid value 'wh': still used by jobs: hourly; "
        "change them first"
    )

    shown = json.loads(invoke(sqlite_url, "timeperiods", "show", "wh", "--json").stdout)
    windows = [tuple(datetime.fromisoformat(t) for t in w) for w in shown["next_windows"]]
    assert len(windows) == 5
    for begin, end in windows:
        assert begin.weekday() in (0, 1) and (begin.hour, begin.minute) == (9, 0)
        assert end - begin == timedelta(hours=8)

    upcoming = json.loads(invoke(sqlite_url, "jobs", "next", "hourly", "-n", "20", "--json").stdout)
    starts = [datetime.fromisoformat(t) for t in upcoming]
    assert len(starts) == 20
    assert all(s.weekday() in (0, 1) and 9 <= s.hour <= 16 and s.minute == 0 for s in starts)
    first_evening = next(i for i, s in enumerate(starts) if s.hour == 16)
    following = starts[first_evening + 1]
    assert (following.hour, following > starts[first_evening] + timedelta(hours=12)) == (9, True)
