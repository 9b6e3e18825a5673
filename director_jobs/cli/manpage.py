"""`director manpage`: the director(1) manual page, written from the command tree itself, so
that it lists exactly the commands, options and environment variables the CLI has."""

from __future__ import annotations

from collections.abc import Iterator

import click

from director_jobs import __version__, exit_codes
from director_jobs.cli.root import root

EXIT_STATUS = (
    (exit_codes.OK, "done and nothing failed; a clean shutdown; a memory or lifetime recycle"),
    (exit_codes.JOB_FAILED, "a job failed (one-shot), or the operation failed"),
    (exit_codes.USAGE, "a usage error or invalid input (the message names the field and text)"),
    (exit_codes.CONFIG, "a configuration error (EX_CONFIG): unusable file, database URL"),
    (exit_codes.SIGNALLED + 15, "a one-shot run stopped by SIGTERM (130: by SIGINT, Ctrl-C)"),
)


@root.command("manpage", hidden=True)
def manpage() -> None:
    """Print the director(1) manual page (roff); the package installs it as share/man/man1."""
    click.echo(render(), nl=False)


def render() -> str:
    """The whole page."""
    context = root.make_context("director", [], resilient_parsing=True)
    lines = [
        '.TH DIRECTOR 1 "" "director-jobs ' + __version__ + '" "User Commands"',
        ".SH NAME",
        r"director \- " + _escape(_first_line(root.help or "")),
        ".SH SYNOPSIS",
        r".B director",
        r"[\fIGLOBAL OPTIONS\fR] \fICOMMAND\fR [\fIARGS\fR]...",
        ".SH DESCRIPTION",
        _paragraphs(
            "director-jobs loads job definitions from a database and runs the pending ones "
            "one after the other, each only inside its Icinga-style time period: once from "
            "cron or a systemd timer (director jobs run), or forever under systemd "
            "(director jobs run --forever)."
        ),
        ".SH GLOBAL OPTIONS",
        *_options(root, context),
        ".SH COMMANDS",
    ]
    for path, command, command_context in _commands(root, context, "director"):
        lines += [f'.SS "{_escape(path)}"', _paragraphs(command.help or "")]
        lines += _options(command, command_context)
    lines.append(".SH EXIT STATUS")
    for code, meaning in EXIT_STATUS:
        lines += [".TP", rf"\fB{code}\fR", _escape(meaning)]
    lines += [
        ".SH ENVIRONMENT",
        _paragraphs(
            "Every option can be set from the environment: the global ones as shown above, "
            "the others as DIRECTOR_JOBS_<COMMAND>_<OPTION>, e.g. DIRECTOR_JOBS_JOBS_RUN_FOREVER=1."
        ),
        ".SH FILES",
        ".TP",
        r"\fI/etc/director\-jobs/config.toml\fR",
        "The configuration file (database_url, timezone, log_level, containment).",
        ".TP",
        r"\fI/var/lib/director\-jobs/jobs.db\fR",
        "The service's SQLite database; root and the service's group use it when it exists.",
        ".SH SEE ALSO",
        r"\fBsystemctl\fR(1), \fBjournalctl\fR(1), \fBcrontab\fR(5); the deployment guide in "
        r"\fIshare/doc/director\-jobs/deployment.md\fR of the installation.",
    ]
    return "\n".join(lines) + "\n"


def _commands(
    group: click.Group, context: click.Context, path: str
) -> Iterator[tuple[str, click.Command, click.Context]]:
    """Every visible command below `group`, depth first, with its full path and usage."""
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        child = click.Context(command, info_name=name, parent=context)
        usage = " ".join(piece for piece in command.collect_usage_pieces(child))
        if isinstance(command, click.Group):
            yield from _commands(command, child, f"{path} {name}")
        else:
            yield f"{path} {name} {usage}".rstrip(), command, child


def _options(command: click.Command, context: click.Context) -> list[str]:
    """`.TP` entries for the options of `command`, with their environment variables."""
    lines = []
    for param in command.get_params(context):
        record = param.get_help_record(context)
        if not isinstance(param, click.Option) or record is None:
            continue
        flags, text = record
        if "--help" in param.opts and command is not root:
            continue  # said once, under the global options
        lines += [".TP", rf"\fB{_escape(flags)}\fR", _escape(text)]
    return lines


def _paragraphs(text: str) -> str:
    """Help text as roff paragraphs; click's \\b (keep as is) blocks become .nf/.fi."""
    out = []
    for block in text.strip().split("\n\n"):
        if block.startswith("\b"):
            out += [".PP", ".nf", _escape(block[1:].strip("\n")), ".fi"]
        else:
            out += [".PP", _escape(" ".join(block.split()))]
    return "\n".join(out)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _escape(text: str) -> str:
    """Text safe for roff: backslashes, hyphens, non-ASCII, a leading dot or quote per line."""
    escaped = text.replace("\\", r"\e").replace("-", r"\-")
    escaped = "".join(c if c.isascii() else rf"\[u{ord(c):04X}]" for c in escaped)
    return "\n".join(
        rf"\&{line}" if line.startswith((".", "'")) else line for line in escaped.splitlines()
    )
