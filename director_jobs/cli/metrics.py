"""`director metrics`: the Prometheus metrics on stdout, or as a file for node_exporter."""

from __future__ import annotations

from pathlib import Path

import click

from director_jobs.cli.app import App
from director_jobs.cli.root import root
from director_jobs.errors import InvalidInput

pass_app = click.make_pass_decorator(App, ensure=True)


@root.command("metrics")
@click.option(
    "--textfile",
    metavar="PATH",
    help="Write them to this .prom file (atomically) for node_exporter's textfile collector.",
)
@pass_app
def metrics(app: App, textfile: str | None) -> None:
    """Print the Prometheus metrics of the jobs, runs and runners (the text format).

    The same metrics as GET /metrics of `director serve`, for one-shot set-ups: run it
    from a timer or cron after `jobs run`, with --textfile in node_exporter's
    --collector.textfile.directory.

    \b
    Examples:
      director metrics
      director metrics --textfile /var/lib/prometheus/node-exporter/director_jobs.prom
    """
    target = _checked_textfile(textfile) if textfile is not None else None
    from director_jobs.services.metrics import MetricsCollector, write_textfile

    text = MetricsCollector(app.database, app.clock, app.settings.timezone).exposition()
    if target is None:
        click.echo(text.decode(), nl=False)
        return
    try:
        write_textfile(target, text)
    except OSError as exc:
        raise InvalidInput(
            "--textfile", textfile, f"cannot write in {str(target.parent)!r}: {exc.strerror}"
        ) from None


def _checked_textfile(text: str) -> Path:
    """The --textfile path, when node_exporter would read it and its folder exists."""
    path = Path(text)
    if path.suffix != ".prom":
        raise InvalidInput(
            "--textfile", text, "node_exporter's textfile collector reads only *.prom files"
        )
    if not path.parent.is_dir():
        raise InvalidInput("--textfile", text, f"folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise InvalidInput("--textfile", text, "a folder, not a file")
    return path
