"""A cgroup per job: every process a job starts stays in it, `setsid` escapees included, so
that the whole job can be killed at once and its memory limited by the kernel.

Two trees matter (PLATFORM.md §13). The cgroup2 tree kills: writing 1 to `cgroup.kill`
(Linux 5.14) ends every member. Memory is limited by a memory controller: in the cgroup2
tree when it has one (`memory.max`), else in the v1 memory hierarchy of a hybrid layout
(`memory.limit_in_bytes`). Under systemd with `Delegate=yes` the unit's own cgroup is
ours to divide; without systemd, root may create cgroups below its own. What is usable
is found out once, by trying, and every cgroup made here is removed again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
# A runner's job cgroups are named `<prefix><runner pid>-<run id>`: unique on the host
# even with several runners on several databases, and recognisable when left behind.
PREFIX = "director-job-"


@dataclass(frozen=True)
class CgroupLayout:
    """Where this runner may create job cgroups."""

    kill_base: Path  # in the cgroup2 tree
    memory_base: Path | None  # a folder with a memory controller, or None
    memory_v2: bool  # True: `memory_base` is in the cgroup2 tree (memory.max)

    def describe(self) -> str:
        """One line for the start-up log and `director status`."""
        if self.memory_base is None:
            memory = "memory limits by sampling RSS (no memory controller)"
        elif self.memory_v2:
            memory = "memory limits by the kernel (cgroup2 memory.max)"
        else:
            memory = "memory limits by the kernel (cgroup v1 memory controller)"
        return f"a cgroup per job under {self.kill_base} (cgroup.kill); {memory}"


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, file system type, super options) of each cgroup mount."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
                found.append((fields[4], tail[0], tail[2]))
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup per hierarchy: '' for cgroup2, controller names for v1."""
    paths = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as cgroups:
        for line in cgroups:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    return paths


def _usable(base: Path, needed: str) -> bool:
    """True when a child cgroup can be made (and removed) in `base`, with file `needed`.

    The root cgroup lacks some files its children have (cgroup.kill), so a probe child
    is what tells.
    """
    probe = base / f"{PREFIX}probe-{os.getpid()}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        return (probe / needed).exists()
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


def detect_layout() -> CgroupLayout | None:
    """The cgroups this process may create for its jobs, or None (process groups then)."""
    mounts, own = _mounts(), _own_paths()
    unified = next((point for point, kind, _ in mounts if kind == "cgroup2"), None)
    if unified is None or "" not in own:
        return None
    base = Path(unified + own[""].rstrip("/"))
    if not _usable(base, "cgroup.kill"):  # not ours to divide, or before Linux 5.14
        return None
    # The root cgroup is the whole machine's: its controllers are used, never changed.
    if _enable_memory_v2(base, change=own[""] != "/"):
        return CgroupLayout(base, base, True)
    v1 = next(
        (point for point, kind, options in mounts if kind == "cgroup" and "memory" in options),
        None,
    )
    if v1 is not None and "memory" in own:
        memory = Path(v1 + own["memory"].rstrip("/"))
        if _usable(memory, "memory.limit_in_bytes"):
            return CgroupLayout(base, memory, False)
    return CgroupLayout(base, None, False)


def _enable_memory_v2(base: Path, *, change: bool) -> bool:
    """Turn on the memory controller for `base`'s children, where it is offered (and `change`).

    Already on, or impossible (not offered, or `base` holds processes: the cgroup2
    rule that controllers only go to children of a cgroup without members): then say
    whether it is on.
    """
    try:
        offered = (base / "cgroup.controllers").read_text().split()
        enabled = (base / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False
    if "memory" in enabled:
        return True
    if "memory" not in offered or not change:
        return False
    try:
        (base / "cgroup.subtree_control").write_text("+memory")
    except OSError:
        return False
    return True


class JobCgroup:
    """The cgroup(s) of one run: created before the job starts, removed when it is over."""

    def __init__(self, layout: CgroupLayout, name: str, memory_limit_mib: float | None) -> None:
        self.layout = layout
        self.path = layout.kill_base / name
        self.memory_path: Path | None = None
        self.path.mkdir()
        self.memory_limited = False
        try:
            self._limit_memory(memory_limit_mib, name)
        except OSError:  # a half-made cgroup must not stay behind
            self.remove()
            raise

    def _limit_memory(self, memory_limit_mib: float | None, name: str) -> None:
        """Give the job a memory limit the kernel enforces, where there is a controller."""
        layout = self.layout
        if memory_limit_mib is not None and layout.memory_base is not None:
            self.memory_path = layout.memory_base / name
            if self.memory_path != self.path:
                self.memory_path.mkdir()
            limit = str(int(memory_limit_mib * MIB))
            if layout.memory_v2:
                (self.memory_path / "memory.max").write_text(limit)
                (self.memory_path / "memory.oom.group").write_text("1")  # kill all, not one
                with contextlib.suppress(OSError):  # absent without swap accounting
                    (self.memory_path / "memory.swap.max").write_text("0")
            else:
                (self.memory_path / "memory.limit_in_bytes").write_text(limit)
            self.memory_limited = True

    @property
    def folders(self) -> list[Path]:
        """The job's cgroup folders (one, or two on a hybrid layout)."""
        if self.memory_path is None or self.memory_path == self.path:
            return [self.path]
        return [self.path, self.memory_path]

    @property
    def procs_files(self) -> list[str]:
        """The `cgroup.procs` files a job's first process writes `0` to, entering them."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def enter(self) -> None:
        """Move the calling process in (a forked child does this before anything else)."""
        for procs in self.procs_files:
            with open(procs, "w") as handle:
                handle.write("0")

    def pids(self) -> list[int]:
        """The processes in the job's cgroup now."""
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def memory_exceeded(self) -> bool:
        """True when the kernel had to OOM-kill inside the job for its memory limit."""
        if self.memory_path is None:
            return False
        name = "memory.events" if self.layout.memory_v2 else "memory.oom_control"
        try:
            text = (self.memory_path / name).read_text()
        except OSError:
            return False
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", "0")) > 0

    def kill(self, timeout: float = 10.0) -> list[int]:
        """Kill every process in the cgroup at once; return the pids that were there."""
        members = self.pids()
        if not members:
            return []
        with contextlib.suppress(OSError):
            (self.path / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + timeout
        while self.pids() and time.monotonic() < deadline:
            for pid in self.pids():  # newcomers forked while the kill went out
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        return members

    def remove(self) -> None:
        """Kill what is left and remove the cgroup(s); a zombie may need a moment."""
        self.kill()
        for folder in self.folders:
            remove_cgroup(folder)


def remove_cgroup(path: Path, timeout: float = 5.0) -> None:
    """rmdir a cgroup, retrying while its last members are being reaped (EBUSY)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() >= deadline:
                return
            time.sleep(0.02)


def kill_cgroups(folders: list[str]) -> list[int]:
    """Kill and remove the cgroups of a run whose runner died; return who was in them.

    Only folders named like ours are touched (the paths come from the database). On a
    hybrid layout the second folder, in the v1 memory tree, has no cgroup.kill: its
    members are the same processes, gone with the first.
    """
    members: list[int] = []
    for path in folders:
        folder = Path(path)
        if not folder.name.startswith(PREFIX) or not (folder / "cgroup.procs").exists():
            continue
        with contextlib.suppress(OSError):
            members += [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        if (folder / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                (folder / "cgroup.kill").write_text("1")
        else:
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        remove_cgroup(folder)
    return sorted(set(members))
