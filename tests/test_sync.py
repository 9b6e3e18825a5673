"""Sync rules: filter language, property mapping, policies, purge, history, the sync job, CLI."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from test_imports import HOSTS, count_rows, csv_source, db, define_sources, run_job, write_csv

from director_jobs.clock import Clock, FakeClock, SystemClock
from director_jobs.db.database import Database
from director_jobs.db.schema import import_runs, object_changes, objects, sync_runs
from director_jobs.errors import InvalidInput
from director_jobs.job_types.importer import ImportJob
from director_jobs.job_types.sync import SyncJob
from director_jobs.model import RunStatus
from director_jobs.sync.definitions import export_rules, parse_rules
from director_jobs.sync.filter_parser import parse_filter
from director_jobs.sync.filter_tokens import FilterSyntaxError
from director_jobs.sync.mapping import PropertyMapping
from director_jobs.sync.rule import compile_rule
from director_jobs.sync.service import SyncService
from director_jobs.sync.spec import RuleSpec, UpdatePolicy

__all__ = ["db"]  # the fixture, shared with test_imports

PROPERTIES = {
    "object_name": "${hostname}",
    "address": "${ip}",
    "vars.os": "${os}",
    "imports": ["generic-host"],
}

# -- the filter language -----------------------------------------------------------------

ROW = {"os": "linux", "env": "prod", "cpus": "4", "ram": 16, "groups": ["web", "db"], "up": True}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('os = "linux"', True),
        ("os == 'linux'", True),
        ('os != "linux"', False),
        ('os = "linux" and env != "test"', True),
        ('os = "windows" or env = "prod"', True),
        ('not os = "linux"', False),
        ('not (os = "linux" and env = "test")', True),
        ('os = "a" or os = "b" and env = "prod"', False),  # and binds tighter than or
        ('(os = "a" or os = "linux") and env = "prod"', True),
        ('os ~ "^lin"', True),
        ('os ~ "^LIN"', False),
        ('os ~ "(?i)^LIN"', True),
        ('os !~ "bsd"', True),
        ('env in ["prod", "staging"]', True),
        ('env not in ["prod", "staging"]', False),
        ("env in []", False),
        ("cpus = 4", True),  # text read as a number
        ("cpus = 4.0", True),
        ('ram = "16"', True),
        ("ram in [8, 16]", True),
        ('groups = "db"', True),  # any element of a list
        ('groups ~ "^w"', True),
        ('groups != "mail"', True),
        ("up = true", True),
        ("up = false", False),
        ("missing = null", True),
        ('missing != "x"', True),
        ('missing ~ "."', False),
        ("os = null", False),
        ('OS = "linux"', False),  # column names are case-sensitive
        ('os = "linux" AND env = "prod"', True),  # keywords are not
        ('os = "li\\"nux"', False),
    ],
)
def test_filter_matches(text: str, expected: bool) -> None:
    assert parse_filter(text, "f").matches(ROW) is expected


def test_filter_empty_text_and_booleans_from_csv() -> None:
    assert parse_filter("active = true", "f").matches({"active": "True"})
    assert parse_filter("ip = null", "f").matches({"ip": ""})
    assert parse_filter("name = 'it\\'s'", "f").matches({"name": "it's"})


@pytest.mark.parametrize(
    ("text", "position", "problem"),
    [
        ('os = "linux" and', 17, "expected a column name, 'not' or '(', found the end"),
        ("os = ", 6, "expected a value (string, number, true, false, null), found the end"),
        ("os = linux", 6, "found 'linux' (quote text: \"linux\")"),
        ('os "linux"', 4, "expected =, !=, ~, !~ or in after 'os', found '\"linux\"'"),
        ('(os = "a"', 10, "expected ')', found the end"),
        ('os = "a")', 9, "expected 'and', 'or' or the end, found ')'"),
        ('os = "unterminated', 6, 'string starting with " never ends'),
        ('os ~ "("', 6, "bad regular expression '('"),
        ("os ~ 3", 6, "expected a quoted regular expression, found '3'"),
        ('os in ["a" "b"]', 12, "expected ',' or ']', found '\"b\"'"),
        ('os in "a"', 7, "expected '[' to start the list"),
        ('os not "a"', 8, "expected 'in' after 'not'"),
        ("", 1, "the filter is empty"),
        ('os = "a" & env = "b"', 10, "unexpected character '&'"),
        ("__import__('os').system('id')", 17, "unexpected character '.'"),
        ('os = "\\q"', 7, "unknown escape '\\q'"),
    ],
)
def test_filter_syntax_errors_name_the_rule_position_and_text(
    text: str, position: int, problem: str
) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text, "sync_rules.hosts.filter")
    error = caught.value
    assert error.position == position
    assert str(error).startswith(f"sync_rules.hosts.filter: invalid value {text!r}: ")
    assert f"at position {position}: " in str(error) and problem in str(error)


def test_filter_nesting_is_bounded() -> None:
    deep = "(" * 60 + 'os = "a"' + ")" * 60
    with pytest.raises(FilterSyntaxError, match="nested deeper than 50 levels"):
        parse_filter(deep, "f")
    assert parse_filter("(" * 20 + 'os = "linux"' + ")" * 20, "f").matches(ROW)
    assert parse_filter("not " * 30 + 'os = "linux"', "f").matches(ROW)


# -- property mapping ---------------------------------------------------------------------


def test_mapping_renders_templates_constants_and_lists() -> None:
    mapping = PropertyMapping(
        {
            "object_name": "${hostname}",
            "display_name": "${hostname} (${site})",
            "address": "${ip}",
            "vars.cpus": "${cpus}",
            "vars.groups": "${groups}",
            "vars": {"team": "ops", "os": {"family": "${os}"}},
            "check_interval": 300,
            "enable_notifications": False,
            "groups": ["all", "${groups}", "${nothing}"],
            "notes": "cpus=${cpus} groups=${groups}",
        },
        "sync_rules.r.properties",
    )
    row = {"hostname": "web01", "ip": "10.0.0.1", "cpus": 4, "groups": ["web", "db"], "os": "deb"}
    assert mapping.name_for(row) == "web01"
    assert dict(mapping.render(row)) == {
        ("display_name",): None,  # no site: a longer string with a gap is not set
        ("address",): "10.0.0.1",
        ("vars", "cpus"): 4,  # a whole placeholder keeps the type
        ("vars", "groups"): ["web", "db"],
        ("vars", "team"): "ops",
        ("vars", "os", "family"): "deb",
        ("check_interval",): 300,
        ("enable_notifications",): False,
        ("groups",): ["all", "web", "db"],  # a list value is spliced in, a gap dropped
        ("notes",): 'cpus=4 groups=["web", "db"]',
    }
    assert PropertyMapping({"object_name": "fixed"}, "p").name_for({}) == "fixed"


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"address": "${ip}"}, "p.object_name"),
        ({"object_name": 3}, "p.object_name"),
        ({"object_name": "${}"}, "p.object_name"),
        ({"object_name": "${name"}, "p.object_name"),
        ({"object_name": "${h}", "vars": "x", "vars.os": "y"}, "p.vars.os"),
        ({"object_name": "${h}", "vars..os": "y"}, "p.vars..os"),
        ({"object_name": "${h}", "notes": None}, "p.notes"),
    ],
)
def test_mapping_errors_name_the_field(properties: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PropertyMapping(properties, "p")
    assert caught.value.field == field


# -- sync runs against a real database ---------------------------------------------------


def rule(**changes: Any) -> RuleSpec:
    """The test rule `hosts` from source `cmdb`, with changes.

    It may purge any share of its few objects: the limit (20 % by default) has its own
    tests in test_pipeline_guards.py.
    """
    values: dict[str, Any] = {
        "name": "hosts",
        "source": "cmdb",
        "object_type": "host",
        "properties": dict(PROPERTIES),
        "max_purge": 1.0,
    }
    values.update(changes)
    return RuleSpec(**values)


def define_rules(engine: Engine, clock: Clock, *specs: RuleSpec) -> None:
    """Store rule definitions like `director apply` would."""
    with engine.begin() as connection:
        SyncService(engine, clock).apply_in(connection, list(specs), clock.now())


class Pipeline:
    """A CSV source `cmdb`, rules on it, and helpers to import and sync."""

    def __init__(self, db: Database, clock: FakeClock, tmp_path: Path, *rules: RuleSpec) -> None:
        self.db = db
        self.clock = clock
        self.csv = write_csv(tmp_path / "hosts.csv", HOSTS)
        # Any shrink allowed: these tests drop rows on purpose (the guard: test_pipeline_guards).
        source = dataclasses.replace(csv_source("cmdb", self.csv), max_shrink=1.0)
        define_sources(db.engine, clock, source)
        define_rules(db.engine, clock, *(rules or (rule(),)))
        self.sync = SyncService(db.engine, clock)

    def rows(self, rows: list[dict[str, str]]) -> None:
        """Replace the CSV's rows."""
        write_csv(self.csv, rows)

    def run_import(self) -> tuple[RunStatus, str | None]:
        """Run the import job; return its status and error."""
        self.clock.advance(60)
        outcome, _ = run_job(ImportJob(), {"source": "cmdb"}, self.db.url, self.clock)
        return outcome.status, outcome.error

    def run_sync(self, **params: Any) -> tuple[RunStatus, str | None, str, str]:
        """Run the sync job; return status, error, summary and output."""
        self.clock.advance(60)
        outcome, output = run_job(SyncJob(), {"rule": "hosts", **params}, self.db.url, self.clock)
        return outcome.status, outcome.error, outcome.summary or "", output

    def objects(self, object_type: str = "host") -> dict[str, dict[str, Any]]:
        """name -> properties of the stored objects."""
        return {o.name: o.properties for o in self.sync.objects.list_objects(object_type)}

    def edit(self, name: str, properties: dict[str, Any]) -> None:
        """Change an object by hand (as another tool or rule would)."""
        with self.db.engine.begin() as connection:
            connection.execute(
                update(objects).where(objects.c.name == name).values(properties=properties)
            )


WEB01 = {"address": "10.0.0.1", "vars": {"os": "deb"}, "imports": ["generic-host"]}


def test_create_then_modify_with_merge_keeps_unmapped_properties(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path)
    assert p.run_import() == (RunStatus.SUCCESS, None)
    status, error, summary, output = p.run_sync()
    assert (status, error, summary) == (RunStatus.SUCCESS, None, "3 create / 0 modify / 0 delete")
    assert "INFO: sync rule hosts: 3 create / 0 modify / 0 delete from import run 1" in output
    assert p.objects()["web01"] == WEB01
    p.edit("web01", {**WEB01, "vars": {"os": "deb", "site": "ber"}, "notes": "by hand"})
    p.rows([{**HOSTS[0], "ip": "10.0.0.11"}, *HOSTS[1:]])
    p.run_import()
    assert p.run_sync()[2] == "0 create / 1 modify / 0 delete"
    assert p.objects()["web01"] == {
        "address": "10.0.0.11",
        "vars": {"os": "deb", "site": "ber"},  # the unmapped var stays
        "imports": ["generic-host"],
        "notes": "by hand",
    }
    assert p.run_sync()[2] == "0 create / 0 modify / 0 delete"  # idempotent


def test_merge_removes_a_mapped_property_whose_column_became_empty(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path)
    p.run_import()
    p.run_sync()
    p.rows([{**HOSTS[0], "os": ""}, *HOSTS[1:]])
    p.run_import()
    p.run_sync()
    # An empty CSV cell is text "", which is a value: only null/missing unsets.
    assert p.objects()["web01"]["vars"] == {"os": ""}
    p.rows([{"hostname": h["hostname"], "ip": h["ip"]} for h in HOSTS])
    p.run_import()
    assert p.run_sync()[2] == "0 create / 3 modify / 0 delete"
    assert p.objects()["web01"] == {"address": "10.0.0.1", "imports": ["generic-host"]}


def test_override_replaces_all_properties(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    p = Pipeline(db, clock, tmp_path, rule(update_policy=UpdatePolicy.OVERRIDE))
    p.run_import()
    p.run_sync()
    p.edit("web01", {**WEB01, "notes": "by hand"})
    assert p.run_sync()[2] == "0 create / 1 modify / 0 delete"
    assert p.objects()["web01"] == WEB01


def test_ignore_creates_but_never_modifies(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    p = Pipeline(db, clock, tmp_path, rule(update_policy=UpdatePolicy.IGNORE))
    p.run_import()
    p.run_sync()
    p.edit("web01", {"notes": "by hand"})
    p.rows([{**HOSTS[0], "ip": "10.0.0.11"}, *HOSTS[1:], {**HOSTS[0], "hostname": "new01"}])
    p.run_import()
    assert p.run_sync()[2] == "1 create / 0 modify / 0 delete"
    assert p.objects()["web01"] == {"notes": "by hand"}
    assert p.objects()["new01"]["address"] == "10.0.0.1"


@pytest.mark.parametrize("policy", list(UpdatePolicy))
def test_purge_deletes_only_vanished_objects_the_rule_created(
    db: Database, clock: FakeClock, tmp_path: Path, policy: UpdatePolicy
) -> None:
    p = Pipeline(db, clock, tmp_path, rule(purge=True, update_policy=policy))
    p.run_import()
    p.run_sync()
    with db.engine.begin() as connection:  # a host someone made by hand, owned by no rule
        connection.execute(
            objects.insert().values(
                object_type="host",
                name="manual01",
                properties={},
                owner_rule=None,
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    p.rows(HOSTS[:1])
    p.run_import()
    assert p.run_sync()[2] == "0 create / 0 modify / 2 delete"
    assert sorted(p.objects()) == ["manual01", "web01"]


def test_without_purge_vanished_objects_stay(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path)
    p.run_import()
    p.run_sync()
    p.rows(HOSTS[:1])
    p.run_import()
    assert p.run_sync()[2] == "0 create / 0 modify / 0 delete"
    assert sorted(p.objects()) == ["db01", "web01", "web02"]


def test_filter_selects_rows_and_purge_removes_what_it_drops(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path, rule(filter='os = "deb"', purge=True))
    p.run_import()
    assert p.run_sync()[2] == "2 create / 0 modify / 0 delete"
    assert sorted(p.objects()) == ["db01", "web01"]
    define_rules(db.engine, clock, rule(filter='os = "deb" and hostname !~ "^db"', purge=True))
    assert p.run_sync()[2] == "0 create / 0 modify / 1 delete"
    assert sorted(p.objects()) == ["web01"]


def test_history_of_changes_with_before_and_after(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path, rule(purge=True))
    p.run_import()
    p.run_sync()
    p.rows([{**HOSTS[0], "os": "rhel"}, HOSTS[1]])
    p.run_import()
    p.run_sync()
    history = p.sync.objects.history("host", "web01")
    assert [(h.action, h.rule) for h in history] == [("modified", "hosts"), ("created", "hosts")]
    assert history[0].before == WEB01
    assert history[0].after == {**WEB01, "vars": {"os": "rhel"}}
    assert history[1].before is None and history[1].after == WEB01
    deleted = p.sync.objects.history("host", "db01")[0]
    db01 = {**WEB01, "address": "10.0.0.3"}
    assert (deleted.action, deleted.before, deleted.after) == ("deleted", db01, None)
    runs = p.sync.objects.sync_runs("hosts")
    assert [(r.counts.created, r.counts.modified, r.counts.deleted) for r in runs] == [
        (0, 1, 1),
        (3, 0, 0),
    ]
    assert [r.import_run_id for r in runs] == [2, 1]
    assert [c.action for c in p.sync.objects.changes_of_run(runs[0].id)] == [
        "modified",
        "deleted",
    ]
    assert count_rows(db.engine, object_changes) == 5


def test_apply_changes_false_changes_nothing(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path, rule(purge=True))
    p.run_import()
    status, _, summary, output = p.run_sync(apply_changes=False)
    assert (status, summary) == (RunStatus.SUCCESS, "would 3 create / 0 modify / 0 delete")
    assert "not applied: apply_changes=false" in output
    assert p.objects() == {} and count_rows(db.engine, sync_runs) == 0
    p.run_sync()
    p.rows(HOSTS[1:])
    p.run_import()
    before = p.objects()
    assert p.run_sync(apply_changes=False)[2] == "would 0 create / 0 modify / 1 delete"
    assert p.objects() == before and count_rows(db.engine, sync_runs) == 1


def test_a_rule_whose_source_never_imported_fails(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path)
    status, error, _, output = p.run_sync()
    assert status is RunStatus.ERROR
    assert error == (
        "sync rule 'hosts': import source 'cmdb' has never imported: run its import job first"
    )
    assert "ERROR: sync rule 'hosts'" in output


@pytest.mark.parametrize("breakage", ["missing file", "empty file", "bad line"])
def test_a_failed_import_does_not_cause_a_purge(
    db: Database, clock: FakeClock, tmp_path: Path, breakage: str
) -> None:
    p = Pipeline(db, clock, tmp_path, rule(purge=True))
    p.run_import()
    p.run_sync()
    if breakage == "missing file":
        p.csv.unlink()
    elif breakage == "empty file":
        p.csv.write_text("", encoding="utf-8")  # a truncated export
    else:
        p.csv.write_text("hostname,ip,os\nweb01,1\n", encoding="utf-8")
    status, error = p.run_import()
    assert status is RunStatus.ERROR and error is not None
    assert error.startswith("import source 'cmdb': ")
    assert count_rows(db.engine, import_runs) == 1
    status, _, summary, _ = p.run_sync()
    assert (status, summary) == (RunStatus.SUCCESS, "0 create / 0 modify / 0 delete")
    assert sorted(p.objects()) == ["db01", "web01", "web02"]


def test_rows_mapping_to_one_object_or_to_none_fail_naming_the_rows(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path, rule(properties={**PROPERTIES, "object_name": "${os}"}))
    p.run_import()
    status, error, _, _ = p.run_sync()
    assert status is RunStatus.ERROR
    assert error == "sync rule 'hosts': rows 'db01' and 'web01' both map to object 'deb'"
    define_rules(db.engine, clock, rule(properties={**PROPERTIES, "object_name": "${fqdn}"}))
    assert p.run_sync()[1] == (
        "sync rule 'hosts': row 'db01' gives no object_name (a placeholder's column is empty)"
    )
    assert p.objects() == {} and count_rows(db.engine, sync_runs) == 0


def test_all_rules_run_and_each_failure_is_named(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(
        db,
        clock,
        tmp_path,
        rule(),
        rule(
            name="groups",
            object_type="hostgroup",
            properties={"object_name": "${os}", "display_name": "OS ${os}"},
        ),
        rule(name="services", object_type="service", properties={"object_name": "${nothing}"}),
    )
    p.run_import()
    outcome, output = run_job(SyncJob(), {"rule": "*"}, db.url, clock)
    assert outcome.status is RunStatus.ERROR
    assert outcome.error == (
        "2 of 3 sync rules failed: sync rule 'groups': rows 'db01' and 'web01' both map to "
        "object 'deb'; sync rule 'services': row 'db01' gives no object_name "
        "(a placeholder's column is empty)"
    )
    assert "INFO: sync rule hosts: 3 create" in output
    assert sorted(p.objects()) == ["db01", "web01", "web02"]


def test_sync_job_parameters_and_unknown_rules(db: Database, clock: FakeClock) -> None:
    job = SyncJob()
    assert job.default_parameters() == {"rule": None, "apply_changes": True}
    with pytest.raises(InvalidInput, match=r"parameters\.rule"):
        job.validate({"rule": "no good"})
    outcome, _ = run_job(job, {"rule": "nope"}, db.url, clock)
    assert outcome.error == "sync rule 'nope' does not exist"
    outcome, _ = run_job(job, {"rule": "*"}, db.url, clock)
    assert outcome.error == 'rule "*": no sync rules are defined'


def test_objects_of_other_types_are_untouched(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(
        db,
        clock,
        tmp_path,
        rule(purge=True),
        rule(
            name="users",
            object_type="user",
            purge=True,
            properties={"object_name": "${hostname}", "email": "root@${hostname}"},
        ),
    )
    p.run_import()
    for name in ("hosts", "users"):
        run_job(SyncJob(), {"rule": name}, db.url, clock)
    assert p.objects("user")["web01"] == {"email": "root@web01"}
    assert sorted(p.objects("host")) == sorted(p.objects("user"))


# -- definitions --------------------------------------------------------------------------

TOML = r"""
[sync_rules.hosts]
source = "cmdb"
object_type = "host"
update_policy = "override"
purge = true
filter = 'os = "linux" and env != "test"'
description = "CMDB hosts"

[sync_rules.hosts.properties]
object_name = "${hostname}"
address = "${ip}"
"vars.os" = "${os}"
vars.location = { site = "${site}", rack = 4 }
imports = ["generic-host"]
groups = []

[sync_rules.groups]
source = "cmdb"
object_type = "hostgroup"
properties = { object_name = "${os}" }
"""


def test_rule_definitions_parse_and_export_round_trip() -> None:
    specs = parse_rules(tomllib.loads(TOML))
    hosts = specs[0]
    assert hosts.properties == {
        "object_name": "${hostname}",
        "address": "${ip}",
        "vars.os": "${os}",
        "vars.location.site": "${site}",
        "vars.location.rack": 4,
        "imports": ["generic-host"],
        "groups": [],
    }
    assert hosts.update_policy is UpdatePolicy.OVERRIDE and hosts.purge
    assert specs[1].update_policy is UpdatePolicy.MERGE and not specs[1].purge
    assert parse_rules(tomllib.loads(export_rules(specs))) == specs
    for spec in specs:
        compile_rule(spec)


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ("sync_rules = 1", "sync_rules"),
        ("[sync_rules.r]\nobject_type = 'host'\nproperties = {}", "sync_rules.r.source"),
        ("[sync_rules.r]\nsource = 's'\nobject_type = 'host'", "sync_rules.r.properties"),
        (
            "[sync_rules.r]\nsource = 's'\nobject_type = 'host'\nproperties = {}\npurge = 1",
            "sync_rules.r.purge",
        ),
        (
            "[sync_rules.r]\nsource='s'\nobject_type='host'\nproperties={}\nupdate_policy='keep'",
            "sync_rules.r.update_policy",
        ),
        (
            "[sync_rules.r]\nsource = 's'\nobject_type = 'host'\nproperties = {}\nfiltr = 'x'",
            "sync_rules.r.filtr",
        ),
    ],
)
def test_rule_shape_errors_name_the_field(toml: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rules(tomllib.loads(toml))
    assert caught.value.field == field


def test_rule_meaning_is_checked_and_its_source_must_exist(db: Database, clock: FakeClock) -> None:
    with pytest.raises(InvalidInput, match=r"sync_rules\.hosts\.object_type: invalid value 'vm'"):
        compile_rule(rule(object_type="vm"))
    with pytest.raises(FilterSyntaxError) as caught:
        compile_rule(rule(filter='os = "linux" and'))
    assert str(caught.value) == (
        "sync_rules.hosts.filter: invalid value 'os = \"linux\" and': at position 17: "
        "expected a column name, 'not' or '(', found the end of the filter"
    )
    with pytest.raises(InvalidInput, match=r"sync_rules\.hosts\.source: invalid value 'cmdb'"):
        define_rules(db.engine, clock, rule())
    define_sources(db.engine, clock, csv_source("cmdb", Path("/srv/hosts.csv")))
    service = SyncService(db.engine, clock)
    with db.engine.begin() as connection:
        assert service.apply_in(connection, [rule()], clock.now()) == (["hosts"], [], [])
    with db.engine.begin() as connection:
        assert service.apply_in(connection, [rule(purge=True)], clock.now()) == (
            [],
            ["hosts"],
            [],
        )
    with db.engine.begin() as connection:
        assert service.apply_in(connection, [rule(purge=True)], clock.now()) == ([], [], ["hosts"])
        assert service.prune_in(connection, set()) == ["hosts"]
    assert service.names() == []


def test_rule_using_a_source_blocks_pruning_the_source(db: Database, clock: FakeClock) -> None:
    from director_jobs.imports.service import ImportService

    define_sources(db.engine, clock, csv_source("cmdb", Path("/srv/hosts.csv")))
    define_rules(db.engine, clock, rule())
    with (
        pytest.raises(InvalidInput, match="cannot prune: sync rules hosts use it"),
        db.engine.begin() as connection,
    ):
        ImportService(db.engine, clock).prune_in(connection, set())


# -- CLI ----------------------------------------------------------------------------------


def prepared(sqlite_url: str, tmp_path: Path) -> Pipeline:
    """A pipeline on `sqlite_url` with one import and one sync done."""
    database = Database.open(sqlite_url)
    clock = FakeClock(SystemClock().now())
    p = Pipeline(database, clock, tmp_path, rule(purge=True))
    p.run_import()
    p.run_sync()
    p.rows([{**HOSTS[0], "ip": "10.0.0.11"}, HOSTS[1], {**HOSTS[0], "hostname": "new01"}])
    p.run_import()
    database.dispose()
    return p


def test_cli_sync_list_show_preview(sqlite_url: str, tmp_path: Path) -> None:
    prepared(sqlite_url, tmp_path)
    listed = invoke(sqlite_url, "sync", "list")
    assert listed.exit_code == 0 and "3 create / 0 modify / 0 delete" in listed.output
    data = json.loads(invoke(sqlite_url, "sync", "list", "--json").output)
    assert data[0]["name"] == "hosts" and data[0]["last_run"]["created"] == 3
    shown = invoke(sqlite_url, "sync", "show", "hosts")
    assert "vars.os = ${os}" in shown.output and "purge:         yes" in shown.output
    assert json.loads(invoke(sqlite_url, "sync", "show", "hosts", "--json").output)["runs"]

    before = invoke(sqlite_url, "objects", "list", "--json").output
    preview = invoke(sqlite_url, "sync", "preview", "hosts")
    assert preview.exit_code == 0
    assert preview.output.splitlines() == [
        "create host new01",
        "    address = 10.0.0.1",
        '    imports = ["generic-host"]',
        "    vars.os = deb",
        "modify host web01",
        "    address: 10.0.0.1 → 10.0.0.11",
        "delete host db01",
        "1 create / 1 modify / 1 delete (from import run 2)",
    ]
    planned = json.loads(invoke(sqlite_url, "sync", "preview", "hosts", "--json").output)
    assert (planned["created"], planned["modified"], planned["deleted"]) == (1, 1, 1)
    assert planned["changes"][1]["before"]["address"] == "10.0.0.1"
    assert invoke(sqlite_url, "objects", "list", "--json").output == before  # nothing written


def test_cli_objects_list_and_show(sqlite_url: str, tmp_path: Path) -> None:
    prepared(sqlite_url, tmp_path)
    listed = invoke(sqlite_url, "objects", "list", "--type", "host")
    assert [line.split()[:3] for line in listed.output.splitlines()[1:]] == [
        ["host", "db01", "hosts"],
        ["host", "web01", "hosts"],
        ["host", "web02", "hosts"],
    ]
    assert invoke(sqlite_url, "objects", "list", "--type", "user").output.strip() == (
        "TYPE  NAME  OWNER RULE  UPDATED"
    )
    shown = invoke(sqlite_url, "objects", "show", "host", "web01")
    assert shown.exit_code == 0
    assert '"address": "10.0.0.1"' in shown.output and "(hosts): created" in shown.output
    assert "vars.os: null → deb" in shown.output
    data = json.loads(invoke(sqlite_url, "objects", "show", "host", "web01", "--json").output)
    assert data["owner_rule"] == "hosts" and data["history"][0]["action"] == "created"


@pytest.mark.parametrize(
    "args",
    [
        ("sync", "show", "nope"),
        ("sync", "preview", "nope"),
        ("objects", "list", "--type", "vm"),
        ("objects", "show", "vm", "web01"),
        ("objects", "show", "host", "nope"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(sqlite_url: str, args: tuple[str, ...]) -> None:
    result = invoke(sqlite_url, *args)
    assert result.exit_code == 2
    assert result.output.startswith("director: error: ")
    assert len(result.output.strip().splitlines()) == 1


def test_cli_preview_of_a_rule_without_import_fails_naming_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    database = Database.open(sqlite_url)
    Pipeline(database, FakeClock(SystemClock().now()), tmp_path)
    database.dispose()
    result = invoke(sqlite_url, "sync", "preview", "hosts")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "director: error: sync rule 'hosts': import source 'cmdb' has never imported: "
        "run its import job first"
    )


def test_objects_table_keeps_one_row_per_type_and_name(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path)
    p.run_import()
    p.run_sync()
    p.run_sync()
    with db.engine.connect() as connection:
        names = list(connection.execute(select(objects.c.name).order_by(objects.c.name)).scalars())
    assert names == ["db01", "web01", "web02"]


@pytest.mark.parametrize(
    ("object_type", "name", "problem"),
    [
        ("host", "web!01", "host names may not contain '!'"),
        ("hostgroup", "a!b", "hostgroup names may not contain '!'"),
        ("service", "web01!http!2", "expected SERVICE or HOST!SERVICE with one '!'"),
        ("service", "!http", "expected SERVICE or HOST!SERVICE with one '!'"),
        ("host", "web\t01", "object names may not contain control characters"),
    ],
)
def test_names_icinga_cannot_take_fail_the_sync_and_store_nothing(
    db: Database, clock: FakeClock, tmp_path: Path, object_type: str, name: str, problem: str
) -> None:
    """Stored, such a name would make every later deployment fail; refused, only this sync."""
    p = Pipeline(db, clock, tmp_path, rule(object_type=object_type))
    p.rows([{"hostname": "web01", "ip": "192.0.2.1", "os": "deb"}])
    p.run_import()
    assert p.run_sync()[0] is RunStatus.SUCCESS
    p.rows(
        [
            {"hostname": "web01", "ip": "192.0.2.1", "os": "deb"},
            {"hostname": name, "ip": "192.0.2.2", "os": "deb"},
        ]
    )
    p.run_import()
    status, error, _, _ = p.run_sync()
    assert status is RunStatus.ERROR
    assert error == f"sync rule 'hosts': row {name!r} gives object_name {name!r}: {problem}"
    assert list(p.objects(object_type)) == ["web01"]
    assert count_rows(db.engine, sync_runs) == 1


def test_a_service_named_host_bang_service_is_fine(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    p = Pipeline(db, clock, tmp_path, rule(object_type="service"))
    p.rows([{"hostname": "web01!http", "ip": "192.0.2.1", "os": "deb"}])
    p.run_import()
    assert p.run_sync()[0] is RunStatus.SUCCESS
    assert list(p.objects("service")) == ["web01!http"]
