"""CLI conventions an administrator expects: -h, help on a bare `director`, examples in every
command's help that are valid command lines, durations and environment variables shown,
tables that fit the terminal."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from typing import Any

import click
import pytest
from conftest import invoke, run_director
from test_status_and_list import on_a_terminal

from director_jobs.cli.root import root


def commands() -> Iterator[tuple[str, click.Command]]:
    """Every visible command, as `director jobs add`, with its click object."""
    context = click.Context(root, info_name="director")

    def walk(group: click.Group, parent: click.Context, path: str) -> Iterator[Any]:
        for name in group.list_commands(parent):
            command = group.get_command(parent, name)
            if command is None or command.hidden:
                continue
            child = click.Context(command, info_name=name, parent=parent)
            if isinstance(command, click.Group):
                yield from walk(command, child, f"{path} {name}")
            else:
                yield f"{path} {name}", command

    yield from walk(root, context, "director")


ALL = sorted(commands(), key=lambda pair: pair[0])


def examples(command: click.Command) -> list[str]:
    """The lines under `Examples:` in a command's help."""
    lines = (command.help or "").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "Examples:")
    found = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        found.append(line.strip())
    return found


def parses(argv: list[str]) -> click.Context:
    """Parse a whole command line through the command tree, without running anything."""
    context = root.make_context("director", argv)
    group: click.Command = root
    while isinstance(group, click.Group):
        name, command, rest = group.resolve_command(
            context, [*context._protected_args, *context.args]
        )
        assert command is not None, argv
        context = command.make_context(name, rest, parent=context)
        group = command
    return context


@pytest.mark.parametrize(("path", "command"), ALL, ids=[p for p, _ in ALL])
def test_every_command_shows_one_to_three_examples_that_parse(
    path: str, command: click.Command
) -> None:
    shown = examples(command)
    assert 1 <= len(shown) <= 3, shown
    for example in shown:
        argv = shlex.split(example.split(" > ")[0])  # without a shell redirection
        argv = argv[argv.index("director") + 1 :]  # e.g. after `sudo -u director-jobs`
        assert parses(argv).command_path == path, example


@pytest.mark.parametrize(("path", "command"), ALL, ids=[p for p, _ in ALL])
def test_every_option_shows_its_environment_variable_and_no_bare_text(
    path: str, command: click.Command
) -> None:
    context = click.Context(command, info_name=path)
    for param in command.get_params(context):
        if not isinstance(param, click.Option) or "--help" in param.opts or param.hidden:
            continue
        flags, text = param.get_help_record(context) or ("", "")
        assert "[env var: DIRECTOR_JOBS_" in text or "env var: DIRECTOR_JOBS_" in text, flags
        assert not flags.endswith(" TEXT") or param.name in ("description", "display_name"), flags
        if param.name in ("interval", "timeout", "retry_delay", "stop_timeout", "max_lifetime"):
            assert flags.endswith(" DURATION"), flags


@pytest.mark.parametrize("args", [["-h"], ["jobs", "-h"], ["jobs", "add", "-h"]])
def test_dash_h_is_help(args: list[str]) -> None:
    short = run_director("sqlite://", *args)
    long = run_director("sqlite://", *args[:-1], "--help")
    assert (short.returncode, short.stderr) == (0, "")
    assert short.stdout == long.stdout and short.stdout.startswith("Usage: director")


@pytest.mark.parametrize("args", [[], ["jobs"], ["timeperiods"]])
def test_a_bare_group_prints_its_help_on_stdout_and_exits_0(args: list[str]) -> None:
    result = run_director("sqlite://", *args)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == run_director("sqlite://", *args, "--help").stdout


def test_tables_are_cut_to_the_terminal_width_and_whole_in_a_pipe(sqlite_url: str) -> None:
    cron = ",".join(str(m) for m in range(0, 60, 2)) + " * * * *"
    assert (
        invoke(sqlite_url, "jobs", "add", "wide", "--type", "self-check", "--cron", cron).exit_code
        == 0
    )

    narrow = on_a_terminal(sqlite_url, "jobs", "list", columns=80).splitlines()
    piped = invoke(sqlite_url, "jobs", "list", env={"COLUMNS": "80"}).stdout.splitlines()

    assert all(len(line) <= 80 for line in narrow), narrow
    assert "…" in narrow[1] and narrow[1].startswith("wide  ")
    assert cron in piped[1] and len(piped[1]) > 80
    assert json.loads(invoke(sqlite_url, "jobs", "list", "--json").stdout)[0]["cron"] == cron
