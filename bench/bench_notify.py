"""What a webhook costs the runner per job (issue 12), side by side in one run.

Run: .venv/bin/python bench/bench_notify.py [--jobs 500] [--rounds 5]
     [--database sqlite|postgresql|both]

One `director jobs run` pass over `--jobs` due `self-check` jobs, with and without a
webhook to a local HTTP receiver that answers 200 at once, alternating, `--rounds` times
each. The runner's per-job time is the span from the first run's start to the last run's
end (runs table), divided by the job count: process start-up and the final sending of
what is left are outside it. Target: the webhook adds at most 1 ms per job (median).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from common import print_table, seed_jobs
from sqlalchemy import func, select

from director_jobs.db.schema import notifications, runs

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import PostgresServer  # noqa: E402

TARGET_MS = 1.0


class _Receiver(BaseHTTPRequestHandler):
    """Reads the POST and answers 200."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def one_pass(url: str, count: int, config: Path | None) -> tuple[float, int]:
    """Milliseconds per job of one pass over `count` due jobs; and deliveries sent."""
    # Due just now: an older due time would add a `skipped` run per job for missed slots.
    database = seed_jobs(url, [datetime.now(UTC)] * count)
    env = {**os.environ, "DIRECTOR_JOBS_DATABASE_URL": url, "TZ": "UTC"}
    env["DIRECTOR_JOBS_CONFIG"] = str(config) if config else ""
    done = subprocess.run(
        [sys.executable, "-m", "director_jobs", "jobs", "run"], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with database.engine.connect() as connection:
        first, last, ran = connection.execute(
            select(func.min(runs.c.started_at), func.max(runs.c.finished_at), func.count())
        ).one()
        sent = connection.execute(
            select(func.count()).where(notifications.c.status == "delivered")
        ).scalar_one()
    database.dispose()
    assert ran == count, f"{ran} runs for {count} jobs"
    return (last - first).total_seconds() * 1000 / count, sent


def measure(new_url: Any, count: int, rounds: int, folder: Path) -> dict[str, list[float]]:
    """Alternate passes without and with a webhook; milliseconds per job of each."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = folder / "webhook.toml"
    config.write_text(
        f'[[webhook]]\nname = "bench"\nurl = "http://127.0.0.1:{server.server_address[1]}/h"\n'
        'secret = "bench-secret"\n'
    )
    figures: dict[str, list[float]] = {"without": [], "with a webhook": []}
    try:
        for _ in range(rounds):
            figures["without"].append(one_pass(new_url(), count, None)[0])
            per_job, sent = one_pass(new_url(), count, config)
            assert sent == count, f"{sent} of {count} notifications delivered"
            figures["with a webhook"].append(per_job)
    finally:
        server.shutdown()
    return figures


def _sqlite_files(folder: Path) -> Any:
    """A maker of URLs of new SQLite files in `folder`."""
    counter = iter(range(10**6))
    return lambda: f"sqlite:///{folder / f'jobs-{next(counter)}.db'}"


def main() -> None:
    """Print medians and the difference for each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        folder = Path(tmp)
        backends = ["sqlite", "postgresql"] if options.database == "both" else [options.database]
        for backend in backends:
            server = None
            if backend == "sqlite":
                new_url = _sqlite_files(folder)
            else:
                server = PostgresServer()
                server.start()
                new_url = server.new_database
            try:
                figures = measure(new_url, options.jobs, options.rounds, folder)
            finally:
                if server is not None:
                    server.stop()
            without = statistics.median(figures["without"])
            with_hook = statistics.median(figures["with a webhook"])
            rows.append(
                (
                    backend,
                    f"{without:.2f}",
                    f"{with_hook:.2f}",
                    f"{with_hook - without:+.2f}",
                    "met" if with_hook - without <= TARGET_MS else "missed",
                    " ".join(f"{v:.2f}" for v in figures["with a webhook"]),
                )
            )
    print_table(
        ("database", "ms/job without", "ms/job with webhook", "difference", "≤ 1 ms", "runs"),
        rows,
    )


if __name__ == "__main__":
    main()
