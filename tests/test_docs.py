"""The documentation's examples work as written: the plug-in of docs/extending.md, the apt
line of docs/deployment.md, and the drop-in it gives for `command` jobs with `user`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from director_jobs.errors import InvalidInput
from director_jobs.job_types.base import JobType

DOCS = REPO / "docs"


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_the_plugin_example_of_extending_md_runs_as_written() -> None:
    """Its `...` placeholder aside, the first python block is a complete module."""
    source = code_blocks(DOCS / "extending.md", "python")[0]
    source = source.replace("        ...\n", "        lost = False\n")
    namespace: dict[str, Any] = {}
    exec(compile(source, "extending.md", "exec"), namespace)
    ping = namespace["PingHost"]()
    assert isinstance(ping, JobType)
    assert ping.validate({"host": "db01"}) == {"host": "db01", "count": 3}
    with pytest.raises(InvalidInput) as refused:
        ping.validate({"host": "db01", "count": 0})
    assert str(refused.value) == "parameters.count: invalid value 0: expected at least 1"


def test_the_install_line_names_every_package_setup_sh_installs() -> None:
    apt = next(
        line
        for line in code_blocks(DOCS / "deployment.md", "sh")[0].splitlines()
        if "apt-get" in line
    )
    setup = (REPO / "scripts" / "setup.sh").read_text()
    packages = re.search(r"^packages=\((.*)\)$", setup, re.M)
    assert packages is not None
    for package in packages.group(1).split():
        assert f" {package}" in apt, package


def test_the_user_jobs_drop_in_of_the_guide_is_the_one_tested_under_systemd() -> None:
    from test_systemd_real import USER_JOBS_DROPIN

    guide = (DOCS / "deployment.md").read_text(encoding="utf-8")
    assert USER_JOBS_DROPIN in guide
