"""The shipped, hardened units under a real systemd 252 as PID 1, as an administrator installs
them: the service user from contrib/sysusers.d, its folders from contrib/tmpfiles.d, the
example pipeline applied by root into the service's database, then

- the daemon as director-jobs: READY → active, the whole example pipeline (import, sync,
  icinga2 validation with SupplementaryGroups=nagios, deploy into its state folder), a
  cgroup per job in the delegated subtree, journald fields, a recycle (exit 0) followed by
  a restart, WATCHDOG=1 pings, and a clean `systemctl stop`;
- STATUS= naming a job while it runs, and its end line found by `journalctl MESSAGE_ID=…`;
- with the drop-in docs/deployment.md gives for `command` jobs with `user`: such a job.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from icinga import require_icinga2
from systemd_container import (
    DIRECTOR_BIN,
    TARGET,
    Container,
    booted,
    hidden_by_protect_home,
    index_of,
    inside,
    messages,
    program,
    require_container_tools,
    scratch,
    wait_until,
)
from test_systemd_unit import unit_with_exec_start

from director_jobs.logs import MessageId

UNITS = REPO / "contrib" / "systemd"
STATE = Path("/var/lib/director-jobs")
PIPELINE = ("import-cmdb", "sync-hosts", "deploy-config")
DEPLOYED_HOSTS = 44  # of the 50 in examples/hosts.csv; the test systems are filtered out
# What docs/deployment.md tells an administrator to add for `command` jobs with `user`.
USER_JOBS_DROPIN = (
    "[Service]\nUser=root\nGroup=root\n"
    "CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL\nProtectProc=default\n"
)


def write_units(unit_dir: Path) -> None:
    """The shipped unit (program path and a short --max-lifetime patched in), a drop-in of
    what this test machine needs, a set-up unit (sysusers, tmpfiles) and a boot target."""
    unit_dir.mkdir()
    command, python_path = program()
    (unit_dir / "director-jobs.service").write_text(
        unit_with_exec_start(
            (UNITS / "director-jobs.service").read_text(), " ".join(command), " --max-lifetime 15s"
        )
    )
    dropin = unit_dir / "director-jobs.service.d"
    dropin.mkdir()
    lines = [
        "[Service]",
        # What an administrator adds for icinga2 validation on Debian (/etc/icinga2 is 0750
        # root:nagios): documented in the unit and in docs/deployment.md.
        "SupplementaryGroups=nagios",
        # The daemon must ping (every 1.5 s) during its 15 s lives: WatchdogTimestamp moves
        # about ten times, so even samples seconds apart on a busy machine see it move.
        "WatchdogSec=3",
        "RestartSec=1",
        "After=director-jobs-test-setup.service",
    ]
    if python_path is not None:
        lines.append(f"Environment=PYTHONPATH={python_path}")
    hidden = hidden_by_protect_home()
    if hidden:  # this machine's interpreter is in /root/.pyenv; ProtectHome= hides it
        lines += ["ProtectHome=tmpfs", "BindReadOnlyPaths=" + " ".join(map(str, hidden))]
    (dropin / "test.conf").write_text("\n".join(lines) + "\n")
    (unit_dir / "director-jobs-test-setup.service").write_text(
        "[Unit]\nDescription=what a package's postinst does: user, folders\n"
        "[Service]\nType=oneshot\nRemainAfterExit=yes\n"
        f"ExecStart=systemd-sysusers {inside(REPO / 'contrib/sysusers.d/director-jobs.conf')}\n"
        "ExecStart=systemd-tmpfiles --create "
        f"{inside(REPO / 'contrib/tmpfiles.d/director-jobs.conf')}\n"
    )
    (unit_dir / TARGET).write_text(
        "[Unit]\nDescription=director-jobs test boot: journald and the set-up only\n"
        "Wants=systemd-journald.service director-jobs-test-setup.service\n"
    )


def example_definitions(host_dir: Path) -> Path:
    """examples/jobs.toml filled in as the quick start does, deploying into the state folder."""
    text = (REPO / "examples" / "jobs.toml").read_text(encoding="utf-8")
    text = text.replace("@EXAMPLES@", str(inside(REPO / "examples")))
    text = text.replace("@DATA@", str(STATE / "example"))
    path = host_dir / "jobs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def history(container: Container) -> list[dict[str, Any]]:
    listed = container.director("jobs", "history", "--json", "--output", "--limit", "1000")
    assert listed.returncode == 0, listed.stderr
    return list(json.loads(listed.stdout))


def succeeded(container: Container, *jobs: str) -> bool:
    done = {r["job"] for r in history(container) if r["status"] == "success"}
    return set(jobs) <= done


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_the_hardened_units_run_the_example_pipeline_under_real_systemd() -> None:
    require_container_tools()
    require_icinga2()
    assert DIRECTOR_BIN.exists(), DIRECTOR_BIN
    with scratch() as (host_dir, inside_dir), booted(write_units_in(host_dir)) as container:
        wait_until(
            "the set-up (sysusers, tmpfiles)",
            lambda: (
                container.show("director-jobs-test-setup.service", "ActiveState")["ActiveState"]
                == "active"
            ),
            60,
        )
        example_definitions(host_dir)
        prepare_as_root(container, inside_dir / "jobs.toml")
        started = container.run("systemctl", "start", "director-jobs", timeout=120)
        assert started.returncode == 0, started.stderr
        check_the_pipeline(container)
        check_the_lifecycle(container)
        check_status_while_a_job_runs(container)
        check_user_jobs(container)


def write_units_in(host_dir: Path) -> Path:
    unit_dir = host_dir / "units"
    write_units(unit_dir)
    return unit_dir


def prepare_as_root(container: Container, definitions: Path) -> None:
    """Root applies the example without naming a database: it lands in the service's."""
    applied = container.director("-v", "apply", str(definitions))
    assert applied.returncode == 0, applied.stderr
    assert f"database: sqlite:///{STATE}/jobs.db" in applied.stderr, applied.stderr
    added = container.director("jobs", "add", "hello", "--type", "self-check", "--interval", "1s")
    assert added.returncode == 0, added.stderr
    owner = container.run("stat", "-c", "%U:%G %a", str(STATE / "jobs.db"))
    assert owner.stdout.split() == ["director-jobs:director-jobs", "640"], owner.stdout


def check_the_pipeline(container: Container) -> None:
    """The example pipeline ran as director-jobs and icinga2 accepted what it deployed."""
    wait_until("the example pipeline", lambda: succeeded(container, *PIPELINE), 180, poll=1)
    shown = container.director("deployments", "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert f"Instantiated {DEPLOYED_HOSTS} Hosts" in shown.stdout, shown.stdout
    hosts = STATE / "example" / "icinga2" / "director-jobs" / "hosts.conf"
    rendered = container.run("stat", "-c", "%U", str(hosts))
    assert rendered.stdout.strip() == "director-jobs", rendered.stderr
    counted = container.run("grep", "-c", "^object Host ", str(hosts))
    assert counted.stdout.strip() == str(DEPLOYED_HOSTS), counted.stdout
    records = container.journal("-u", "director-jobs")
    ready = records[index_of(records, "job containment: ")]
    assert (
        "a cgroup per job under /sys/fs/cgroup/unified/system.slice/director-jobs.service"
        in (ready["MESSAGE"])
    ), ready["MESSAGE"]


def check_the_lifecycle(container: Container) -> None:
    """Ready, watchdog, recycle and restart, journald fields, a clean stop."""
    props = ("ActiveState", "MainPID", "NRestarts", "StatusText", "WatchdogTimestampMonotonic")
    samples: list[dict[str, str]] = []

    def sample() -> dict[str, str]:
        samples.append(container.show("director-jobs", *props))
        return samples[-1]

    wait_until("director-jobs to be active", lambda: sample()["ActiveState"] == "active", 30)
    first_pid = samples[-1]["MainPID"]

    def pinged_twice() -> bool:
        sample()
        stamps = {s["WatchdogTimestampMonotonic"] for s in samples if s["MainPID"] == first_pid}
        return len(stamps - {"", "0"}) >= 2

    wait_until("two WATCHDOG=1 from the first process", pinged_twice, 60)

    def restarted() -> bool:
        state = sample()
        return state["ActiveState"] == "active" and state["MainPID"] not in ("0", first_pid)

    wait_until("a restart after the recycle", restarted, 120)
    second_pid = samples[-1]["MainPID"]
    assert samples[-1]["StatusText"].startswith(("idle;", "running ")), samples[-1]

    stopped = container.run("systemctl", "stop", "director-jobs", timeout=90)
    assert stopped.returncode == 0, stopped.stderr
    final = container.show("director-jobs", "ActiveState", "Result", "ExecMainStatus")
    assert final == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}

    records = container.journal("-u", "director-jobs")
    hello = [r for r in records if r.get("JOB_NAME") == "hello"]
    assert hello and all(r.get("JOB_TYPE") == "self-check" and r.get("RUN_ID") for r in hello)
    assert {r.get("_PID") for r in hello} >= {first_pid, second_pid}
    recycle = index_of(records, "recycling: lifetime")
    assert records[recycle].get("PRIORITY") == "4"
    assert records[recycle].get("MESSAGE_ID") == MessageId.RECYCLE
    restart = index_of(records, "Scheduled restart job, restart counter is at 1", recycle)
    stopping = index_of(records, "Stopping director-jobs.service", restart)
    index_of(records, "runner stopped (stopped)", stopping)
    for bad in ("Watchdog timeout", "Failed with result", "SIGKILL", "Traceback"):
        assert not any(bad in m for m in messages(records)), bad


def check_status_while_a_job_runs(container: Container) -> None:
    """`systemctl show -p StatusText` names a job while it runs (it waits for a file), and
    stops naming it when it ended; `journalctl MESSAGE_ID=…` finds its end with the run fields."""
    gate = STATE / "gate"
    wait = f"while [ ! -e {gate} ]; do sleep 0.1; done"
    added = container.director(
        "jobs", "add", "gated", "--type", "command", "--interval", "1h",
        "--parameters", json.dumps({"command": ["sh", "-c", wait]}),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    started = container.run("systemctl", "start", "director-jobs", timeout=120)
    assert started.returncode == 0, started.stderr
    running = re.compile(r"running gated \(run \d+\) since \d\d:\d\d:\d\d UTC; next: \S+ at .+ UTC")
    texts: list[str] = []

    def status() -> str:
        texts.append(container.show("director-jobs", "StatusText")["StatusText"])
        return texts[-1]

    wait_until("STATUS= to name the gated job", lambda: bool(running.fullmatch(status())), 120)
    assert _write_in(container, str(gate), "").returncode == 0
    wait_until(
        "STATUS= to leave the gated job", lambda: not status().startswith("running gated"), 60
    )
    stopped = container.run("systemctl", "stop", "director-jobs", timeout=90)
    assert stopped.returncode == 0, stopped.stderr

    [run] = [r for r in history(container) if r["job"] == "gated"]
    [end] = container.journal(f"MESSAGE_ID={MessageId.RUN_SUCCEEDED}", "JOB_NAME=gated")
    assert end["_SYSTEMD_UNIT"] == "director-jobs.service", end
    assert end["MESSAGE"].startswith("job gated finished: success in "), end
    assert (end["RUN_ID"], end["RUN_STATUS"], end["EXIT_CODE"]) == (str(run["id"]), "success", "0")
    assert (end["TRIGGER"], end["ATTEMPT"]) == ("schedule", "1")
    assert float(end["DURATION"]) == pytest.approx(run["duration"], abs=0.001)
    [start] = container.journal(f"MESSAGE_ID={MessageId.RUN_STARTED}", f"RUN_ID={run['id']}")
    assert start["MESSAGE"].startswith("starting job gated "), start
    recycles = container.journal(f"MESSAGE_ID={MessageId.RECYCLE}")
    assert recycles and all(r["MESSAGE"].startswith("recycling: ") for r in recycles), recycles


def check_user_jobs(container: Container) -> None:
    """With the documented drop-in (root, three capabilities) `user` jobs work."""
    folder = "/etc/systemd/system/director-jobs.service.d"
    written = _write_in(container, f"{folder}/user-jobs.conf", USER_JOBS_DROPIN)
    assert written.returncode == 0, written.stderr
    parameters = json.dumps({"command": "id -un", "user": "nobody"})
    added = container.director(
        "jobs", "add", "as-nobody", "--type", "command", "--interval", "1h",
        "--parameters", parameters,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    for argv in (("systemctl", "daemon-reload"), ("systemctl", "start", "director-jobs")):
        done = container.run(*argv, timeout=120)
        assert done.returncode == 0, done.stderr
    wait_until("the job as nobody", lambda: any_run(container, "as-nobody"), 120, poll=1)
    [run] = [r for r in history(container) if r["job"] == "as-nobody"]
    assert run["status"] == "success", run
    assert run["output"].splitlines()[-1] == "nobody", run
    container.run("systemctl", "stop", "director-jobs", timeout=90)


def any_run(container: Container, job: str) -> bool:
    return any(r["job"] == job and r["status"] != "running" for r in history(container))


def _write_in(container: Container, path: str, text: str) -> subprocess.CompletedProcess[str]:
    """Write a file inside the container (its overlay), as root."""
    return subprocess.run(
        ["nsenter", "-t", str(container.pid), "-a", "-r", "-w", "sh", "-c", f"cat > {path}"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
