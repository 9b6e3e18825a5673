"""examples/jobs.toml filled in the way scripts/quickstart.sh fills it, for tests that load
the example pipeline."""

from __future__ import annotations

import subprocess
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUICKSTART = EXAMPLES.parent / "scripts" / "quickstart.sh"
PIPELINE = ["import-cmdb", "sync-hosts", "deploy-config"]


def filled_in(data: Path) -> Path:
    """examples/jobs.toml filled in by the quickstart's own `sed` line, writing into `data`."""
    script = QUICKSTART.read_text(encoding="utf-8")
    sed_line = next(line for line in script.splitlines() if line.startswith("sed "))
    subprocess.run(
        ["bash", "-c", f'data="$1"; {sed_line}', "fill-in", str(data)],
        cwd=EXAMPLES.parent,
        check=True,
    )
    return data / "jobs.toml"
