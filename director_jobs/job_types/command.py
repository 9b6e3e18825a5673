"""`command`: run a program (argv or a shlex-split string; a shell only when asked)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from director_jobs.errors import InvalidInput
from director_jobs.execution.command import CommandSpec, run_command, user_groups
from director_jobs.job_types.base import (
    JobCancelled,
    JobContext,
    JobFailed,
    JobResult,
    JobTimedOut,
    JobType,
    Parameter,
)


class CommandJob(JobType):
    """Run one command, capture stdout/stderr, map its exit code to success or failure."""

    name = "command"
    description = (
        "Run a command (argv list, or a string split like a shell would; a shell only when asked)."
    )
    starts_own_process = True  # the command is the child: timed out and killed as a tree
    parameters = (
        Parameter(
            "command", (str, list), "Program and arguments: a string or a list.", required=True
        ),
        Parameter("shell", (bool,), "Run the string through /bin/sh -c.", default=False),
        Parameter("env", (dict,), "Extra environment variables.", default={}),
        Parameter("inherit_env", (bool,), "Start from the runner's environment.", default=True),
        Parameter("cwd", (str,), "Working directory (absolute path).", default=None),
        Parameter("user", (str,), "Run as this user (the runner must be root).", default=None),
        Parameter("group", (str,), "Run as this group (the runner must be root).", default=None),
        Parameter("success_exit_codes", (list,), "Exit codes that mean success.", default=[0]),
    )

    def check(self, params: dict[str, Any]) -> None:
        """Check the command's shape, env, cwd and exit codes."""
        self.argv(params)
        env = params["env"]
        for key, value in env.items():
            if not isinstance(value, str) or not key or "=" in key:
                # Environment values are often secrets (PGPASSWORD): never repeat them.
                raise InvalidInput(
                    f"parameters.env.{key}", "***", "expected string names and values"
                )
        cwd = params["cwd"]
        if cwd is not None and not Path(cwd).is_absolute():
            raise InvalidInput("parameters.cwd", cwd, "expected an absolute path")
        codes = params["success_exit_codes"]
        if not codes or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
            raise InvalidInput(
                "parameters.success_exit_codes", codes, "expected a non-empty list of whole numbers"
            )

    @staticmethod
    def argv(params: dict[str, Any]) -> list[str]:
        """The argv to execute: the list as given, a shlex split, or /bin/sh -c."""
        command = params["command"]
        if params["shell"]:
            if not isinstance(command, str) or not command.strip():
                raise InvalidInput(
                    "parameters.command", command, "with shell=true give a non-empty string"
                )
            return ["/bin/sh", "-c", command]
        if isinstance(command, str):
            try:
                argv = shlex.split(command)
            except ValueError as exc:
                raise InvalidInput("parameters.command", command, f"cannot split: {exc}") from None
        else:
            argv = command
        if not argv or not all(isinstance(a, str) for a in argv) or not argv[0]:
            raise InvalidInput(
                "parameters.command", command, "expected a non-empty program and string arguments"
            )
        return list(argv)

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        """Start the command and wait for it; non-success exit codes fail the run."""
        spec = self._spec(params)
        context.logger.info("running %s", shlex.join(spec.argv))

        try:
            outcome = run_command(
                spec,
                timeout=context.timeout,
                cancel=context.cancel,
                on_line=lambda stream, line: context.emit_output(line, stream),
                on_tick=context.heartbeat,
                memory_limit_mib=context.memory_limit,
                on_start=context.on_process,
                cgroup=context.cgroup,
                logger=context.logger,
            )
        except OSError as exc:
            raise JobFailed(
                f"cannot start {spec.argv[0]!r}: {exc.strerror or exc}", exit_code=127
            ) from None
        if outcome.timed_out:
            raise JobTimedOut(
                f"command did not finish within {context.timeout:g} s; killed with its children"
            )
        if outcome.memory_exceeded:
            raise JobFailed(outcome.memory_exceeded)
        if outcome.cancelled:
            raise JobCancelled("command stopped on request; killed with its children")
        assert outcome.exit_code is not None
        if outcome.exit_code not in params["success_exit_codes"]:
            raise JobFailed(f"command exited with {outcome.exit_code}", exit_code=outcome.exit_code)
        return JobResult(exit_code=outcome.exit_code, summary=f"exit code {outcome.exit_code}")

    def _spec(self, params: dict[str, Any]) -> CommandSpec:
        """Build the process spec; user/group switching needs root."""
        env = dict(os.environ) if params["inherit_env"] else {"PATH": os.defpath}
        env.update(params["env"])
        user, group = params["user"], params["group"]
        extra_groups = None
        if (user or group) and os.geteuid() != 0:
            field = "parameters.user" if user else "parameters.group"
            raise JobFailed(
                f"{field}: running as {user or group!r} needs a runner running as root "
                f"(this one runs as uid {os.geteuid()})"
            )
        if user:
            try:
                primary_gid, extra_groups = user_groups(user)
            except KeyError:
                raise JobFailed(f"parameters.user: no such user {user!r}") from None
            group = group or str(primary_gid)
            # What a login as that user would see, unless the job sets them itself.
            identity = {"USER": user, "LOGNAME": user, "HOME": _home_of(user)}
            env.update({k: v for k, v in identity.items() if k not in params["env"]})
        if group and not group.isdigit():
            import grp

            try:
                grp.getgrnam(group)
            except KeyError:
                raise JobFailed(f"parameters.group: no such group {group!r}") from None
        return CommandSpec(
            argv=self.argv(params),
            env=env,
            cwd=params["cwd"],
            user=user,
            group=int(group) if group and group.isdigit() else group,
            extra_groups=extra_groups,
        )


def _home_of(user: str) -> str:
    """The home directory of `user`."""
    import pwd

    return pwd.getpwnam(user).pw_dir
