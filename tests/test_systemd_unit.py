"""contrib/: the units lint clean, are hardened (systemd-analyze security ≤ 2.0) and agree with
the daemon; the sysusers.d and tmpfiles.d snippets work; what Documentation= names is what
a pip install puts down. (test_systemd_real.py runs them under a real systemd.)"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, missing, run_director

from director_jobs import exit_codes
from director_jobs.daemon import DaemonOptions

CONTRIB = REPO / "contrib"
UNIT = CONTRIB / "systemd" / "director-jobs.service"
ONESHOT = CONTRIB / "systemd" / "director-jobs-oneshot.service"
API = CONTRIB / "systemd" / "director-jobs-api.service"
# The API unit's hardening differs from the runner's only here: it starts no jobs, so it
# needs no delegated cgroup subtree; its log lines carry their own identifier; its own guide.
API_OWN = {"Delegate", "ProtectControlGroups", "SyslogIdentifier", "Documentation"}
SHIPPED_PREFIX = "/opt/director-jobs/.venv"
SHIPPED_BINARY = f"{SHIPPED_PREFIX}/bin/director"
# The `director` console script of the interpreter that runs the tests (the project venv).
DIRECTOR_BIN = Path(sys.executable).parent / "director"
# Not hardening: what each unit is and does (everything else must be the same in both).
OWN_SETTINGS = {
    "Description", "Type", "NotifyAccess", "ExecStart", "ExecReload", "WatchdogSec",
    "TimeoutStartSec", "TimeoutStopSec", "Restart", "RestartSec", "RestartPreventExitStatus",
    "KillMode", "SuccessExitStatus", "StartLimitIntervalSec", "StartLimitBurst", "Conflicts",
    "WantedBy",
}  # fmt: skip


@pytest.fixture(scope="module")
def installed_prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `pip install` of this checkout puts below its prefix: a real wheel, unpacked."""
    folder = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = folder.glob("director_jobs-*.whl")
    prefix = folder / "prefix"
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            data = name.split(".data/data/", 1)
            if len(data) == 2:  # pip installs <name>.data/data/X as <prefix>/X
                target = prefix / data[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
    return prefix


def unit_settings(text: str) -> dict[tuple[str, str], list[str]]:
    """(section, key) -> values, in order (systemd allows repeated keys)."""
    settings: dict[tuple[str, str], list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings


def seconds(value: str) -> float:
    """A systemd time span such as `45s`, `10min`, `1min 30s` or `60` (seconds)."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hr": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


def unit_with_exec_start(text: str, binary: Path | str, extra_args: str = "") -> str:
    """The shipped unit with ExecStart's program replaced (its arguments kept)."""
    pattern = re.compile(rf"^ExecStart={re.escape(SHIPPED_BINARY)} (.*)$", re.MULTILINE)
    assert pattern.search(text), f"ExecStart does not start {SHIPPED_BINARY}"
    return pattern.sub(lambda m: f"ExecStart={binary} {m.group(1)}{extra_args}", text)


# -- the unit file on its own -----------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        ("director-jobs.service",),
        ("director-jobs-oneshot.service",),
        ("director-jobs-oneshot.timer", "director-jobs-oneshot.service"),  # the timer's unit too
        ("director-jobs-api.service",),
    ],
)
def test_units_pass_systemd_analyze_verify(
    tmp_path: Path, names: tuple[str, ...], installed_prefix: Path
) -> None:
    """`systemd-analyze verify`: exit 0 and no warning at all (typos only warn, rc stays 0).

    It also looks up every man: page in Documentation=: the one the wheel installs.
    """
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing("systemd-analyze", "install: apt-get install systemd")
    assert DIRECTOR_BIN.exists(), DIRECTOR_BIN
    for name in names:
        text = (UNIT.parent / name).read_text()
        if name.endswith(".service"):
            text = unit_with_exec_start(text, DIRECTOR_BIN)
        try:
            pwd.getpwnam("director-jobs")
        except KeyError:  # the service user does not exist here; verify may look it up
            text = re.sub(r"^(User|Group)=director-jobs$", r"\1=root", text, flags=re.MULTILINE)
        (tmp_path / name).write_text(text)
    manpath = f"{installed_prefix / 'share' / 'man'}:"  # the trailing ':' adds the system's
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / names[0])],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MANPATH": manpath},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_unit_matches_the_daemon(sqlite_url: str) -> None:
    """The settings that must agree with the product: exit codes, stop grace, ExecStart."""
    settings = unit_settings(UNIT.read_text())

    def one(section: str, key: str) -> str:
        values = settings.get((section, key), [])
        assert len(values) == 1, f"[{section}] {key}= set {len(values)} times"
        return values[0]

    assert one("Service", "Type") == "notify"
    assert one("Service", "NotifyAccess") == "main"
    assert one("Service", "Restart") == "always"  # a recycle exits 0 and must be restarted
    assert one("Service", "RestartPreventExitStatus") == f"{exit_codes.USAGE} {exit_codes.CONFIG}"
    assert one("Service", "KillMode") == "mixed"
    assert seconds(one("Service", "TimeoutStopSec")) > DaemonOptions().stop_timeout + 5
    assert seconds(one("Service", "WatchdogSec")) >= 10
    assert one("Service", "NoNewPrivileges") == "yes"
    # A recycle every few hours must never trip the start limit; a crash loop must.
    interval = seconds(one("Unit", "StartLimitIntervalSec"))
    burst = int(one("Unit", "StartLimitBurst"))
    restart_sec = seconds(one("Service", "RestartSec"))
    assert interval / burst <= 3600, "more than one start per hour would trip the limit"
    assert burst * restart_sec < interval, "a crash loop would never reach the limit"

    # ExecStart's arguments are accepted by the CLI: with a missing configuration file it
    # gets as far as loading the configuration and exits 78, which the unit does not restart.
    exec_start = one("Service", "ExecStart").split()
    assert exec_start[0] == SHIPPED_BINARY
    assert exec_start[1:4] == ["jobs", "run", "--forever"]
    result = run_director(
        sqlite_url, "--config", "/nonexistent/director-jobs.toml", *exec_start[1:], timeout=30
    )
    assert result.returncode == exit_codes.CONFIG, result.stderr
    assert "/nonexistent/director-jobs.toml" in result.stderr


@pytest.mark.parametrize("unit", [UNIT, ONESHOT, API], ids=lambda p: p.name)
def test_units_are_hardened(unit: Path) -> None:
    """`systemd-analyze security` rates each service 2.0 or better ("OK" or "SAFE")."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing("systemd-analyze", "install: apt-get install systemd")
    result = subprocess.run(
        [analyze, "security", "--offline=yes", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= 2.0, result.stdout


def test_both_services_share_one_hardening() -> None:
    """The one-shot service is hardened exactly like the daemon, so that neither drifts."""
    daemon, oneshot = (
        {
            key: value
            for key, value in unit_settings(p.read_text()).items()
            if key[1] not in OWN_SETTINGS
        }
        for p in (UNIT, ONESHOT)
    )
    assert daemon == oneshot
    for wanted in ("ProtectSystem", "SystemCallFilter", "CapabilityBoundingSet", "Delegate"):
        assert ("Service", wanted) in daemon, wanted


def test_the_api_is_hardened_like_the_runner_but_for_cgroups() -> None:
    daemon, api = (
        {
            key: value
            for key, value in unit_settings(p.read_text()).items()
            if key[1] not in OWN_SETTINGS | API_OWN
        }
        for p in (UNIT, API)
    )
    assert daemon == api
    settings = unit_settings(API.read_text())
    assert settings[("Service", "ProtectControlGroups")] == ["yes"]
    assert ("Service", "Delegate") not in settings


def test_api_unit_matches_director_serve(sqlite_url: str) -> None:
    """Type=notify (serve sends READY=1), clean-stop and no-restart codes, ExecStart works."""
    settings = unit_settings(API.read_text())
    assert settings[("Service", "Type")] == ["notify"]
    assert settings[("Service", "SuccessExitStatus")] == ["143"]  # uvicorn re-raises SIGTERM
    assert settings[("Service", "RestartPreventExitStatus")] == [
        f"{exit_codes.USAGE} {exit_codes.CONFIG}"
    ]
    [exec_start] = settings[("Service", "ExecStart")]
    argv = exec_start.split()
    assert argv[0] == SHIPPED_BINARY and argv[1] == "serve"
    result = run_director(
        sqlite_url, "--config", "/nonexistent/director-jobs.toml", *argv[1:], timeout=30
    )
    assert result.returncode == exit_codes.CONFIG, result.stderr


def test_the_daemon_and_the_one_shot_service_conflict() -> None:
    assert "director-jobs.service" in unit_settings(ONESHOT.read_text())[("Unit", "Conflicts")][0]
    assert unit_settings(UNIT.read_text())[("Unit", "Conflicts")][0].split() == [
        "director-jobs-oneshot.timer",
        "director-jobs-oneshot.service",
    ]


def test_documentation_names_what_pip_installs(installed_prefix: Path) -> None:
    """Each Documentation= entry exists after `pip install` into /opt/director-jobs/.venv."""
    for unit in (UNIT, ONESHOT, API):
        [documentation] = unit_settings(unit.read_text())[("Unit", "Documentation")]
        for entry in documentation.split():
            if entry.startswith("man:"):
                name, section = re.fullmatch(r"man:([\w.-]+)\((\d)\)", entry).groups()  # type: ignore[union-attr]
                assert (installed_prefix / f"share/man/man{section}/{name}.{section}").is_file()
            else:
                assert entry.startswith(f"file://{SHIPPED_PREFIX}/"), entry
                path = installed_prefix / entry.removeprefix(f"file://{SHIPPED_PREFIX}/")
                assert path.is_file(), entry


def test_the_manual_page_is_current_and_renders_cleanly(installed_prefix: Path) -> None:
    """docs/director.1 is what `director manpage` writes now, and man renders it without a
    warning (every command, option and environment variable of the CLI is in it)."""
    from director_jobs.cli.manpage import render

    shipped = (REPO / "docs" / "director.1").read_text()
    assert shipped == render(), "docs/director.1 is stale: director manpage > docs/director.1"
    assert (installed_prefix / "share/man/man1/director.1").read_text() == shipped
    for text in ("director jobs run", "DIRECTOR_JOBS_JOBS_RUN_FOREVER", "EXIT STATUS"):
        assert text in shipped.replace("\\-", "-"), text
    if shutil.which("man") is None:
        missing("man", "install: apt-get install man-db")
    shown = subprocess.run(
        ["man", "--warnings", "-l", str(REPO / "docs" / "director.1")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MANWIDTH": "100", "MAN_KEEP_FORMATTING": "0"},
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == "", shown.stderr
    plain = re.sub(".\x08", "", shown.stdout)  # man's overstrike for bold and underline
    assert "director jobs add [OPTIONS] NAME" in plain


def test_sysusers_and_tmpfiles_create_the_user_and_folders(tmp_path: Path) -> None:
    """systemd-sysusers and systemd-tmpfiles take the snippets (in a root of their own)."""
    for tool in ("systemd-sysusers", "systemd-tmpfiles"):
        if shutil.which(tool) is None:
            missing(tool, "install: apt-get install systemd")
    (tmp_path / "etc").mkdir()
    for name in ("passwd", "group"):
        shutil.copy(f"/etc/{name}", tmp_path / "etc" / name)
    users = subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(CONTRIB / "sysusers.d/director-jobs.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert users.returncode == 0, users.stderr
    entry = next(
        line.split(":")
        for line in (tmp_path / "etc/passwd").read_text().splitlines()
        if line.startswith("director-jobs:")
    )
    assert entry[5:] == ["/var/lib/director-jobs", "/usr/sbin/nologin"]
    folders = subprocess.run(
        [
            "systemd-tmpfiles",
            f"--root={tmp_path}",
            "--create",
            str(CONTRIB / "tmpfiles.d/director-jobs.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert folders.returncode == 0, folders.stderr
    uid, gid = int(entry[2]), int(entry[3])
    config, state = (
        (tmp_path / "etc/director-jobs").stat(),
        (tmp_path / "var/lib/director-jobs").stat(),
    )
    assert (config.st_uid, config.st_gid, config.st_mode & 0o777) == (0, gid, 0o750)
    assert (state.st_uid, state.st_gid, state.st_mode & 0o777) == (uid, gid, 0o750)
