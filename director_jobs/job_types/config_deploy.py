"""`config-deploy`: render the monitoring objects as Icinga 2 configuration and deploy it.

Targets: `directory` (validated with `icinga2 daemon -C` in a staging folder, then moved in,
then `reload_command`) and `icinga2-api` (a config package stage that the daemon validates
and activates, as Icinga Director deploys). Every attempt is a row in `deployments`.
"""

from __future__ import annotations

import os
import re
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from director_jobs.db.database import Database
from director_jobs.deploy.api_client import IcingaApi, tls_context
from director_jobs.deploy.api_target import ApiTarget
from director_jobs.deploy.commands import CommandRunner, split_command
from director_jobs.deploy.directory import DirectoryTarget
from director_jobs.deploy.dsl import MacroPolicy
from director_jobs.deploy.render import zone_prefix
from director_jobs.deploy.service import Attempt, Policy, run_deployment
from director_jobs.deploy.store import DeploymentStore, DeployStatus, load_objects
from director_jobs.deploy.target import Target
from director_jobs.deploy.validate import DEFAULT_COMMAND, DEFAULT_INCLUDES, check_includes
from director_jobs.errors import InvalidInput
from director_jobs.job_types.base import JobContext, JobFailed, JobResult, JobType, Parameter

DIRECTORY, API = "directory", "icinga2-api"
# Parameters that only one target uses (their default is null, so a set one is a mistake).
_ONLY_FOR = {
    "path": DIRECTORY,
    "reload_command": DIRECTORY,
    "url": API,
    "user": API,
    "password": API,
    "password_file": API,
    "ca_file": API,
    "tls_server_name": API,
}
_SECRET = {"password"}
# Icinga 2 accepts package names of letters, digits, '_' and '-'; '_' first is its own (_api).
_PACKAGE = re.compile(r"[A-Za-z0-9-][A-Za-z0-9_-]*")
# Lines of icinga2's output worth showing in the run's log when a deployment failed.
_MAX_PROBLEM_LINES = 40


class ConfigDeployJob(JobType):
    """Render, validate and deploy the Icinga 2 configuration; record each deployment."""

    name = "config-deploy"
    description = (
        "Render the monitoring objects as Icinga 2 configuration, validate it and deploy it to "
        "a directory or through the Icinga 2 REST API (only when changed, with a grace period)."
    )
    parameters = (
        Parameter("target", (str,), f'"{DIRECTORY}" or "{API}".', default=DIRECTORY),
        Parameter(
            "path", (str,), "directory: the folder the files go to (absolute).", default=None
        ),
        Parameter(
            "validate",
            (bool,),
            "directory: validate with validate_command before anything changes.",
            default=True,
        ),
        Parameter(
            "validate_command",
            (str, list),
            "directory: the validator; `-c FILE` and path constants are appended.",
            default=DEFAULT_COMMAND,
        ),
        Parameter(
            "validate_includes",
            (list,),
            "directory: what the validation includes before the rendered files "
            "(absolute paths or <itl>-like names): constants and the templates objects import.",
            default=list(DEFAULT_INCLUDES),
        ),
        Parameter(
            "reload_command",
            (str, list),
            "directory: run after the files are in place (e.g. systemctl reload icinga2).",
            default=None,
        ),
        Parameter("url", (str,), f"{API}: e.g. https://icinga-master:5665.", default=None),
        Parameter("user", (str,), f"{API}: the ApiUser.", default=None),
        Parameter("password", (str,), f"{API}: its password (prefer password_file).", default=None),
        Parameter("password_file", (str,), f"{API}: a file holding the password.", default=None),
        Parameter(
            "ca_file", (str,), f"{API}: CA certificate (default: the system's CAs).", default=None
        ),
        Parameter(
            "verify_tls", (bool,), f"{API}: verify the certificate (false warns).", default=True
        ),
        Parameter(
            "tls_server_name",
            (str,),
            f"{API}: name the certificate must carry (default: the URL's host).",
            default=None,
        ),
        Parameter("package", (str,), f"{API}: config package name.", default="director-jobs"),
        Parameter(
            "zone",
            (str,),
            f"{API}: objects go to zones.d/<zone>/ (Director: the master zone).",
            default="master",
        ),
        Parameter(
            "escape_macros",
            (str,),
            "`$` in custom variables: unbalanced (double it where Icinga would reject the "
            "value), always (no imported value expands as a macro), never.",
            default=MacroPolicy.UNBALANCED.value,
        ),
        Parameter(
            "deploy_when_changed",
            (bool,),
            "Skip (status unchanged) when the configuration equals the last deployed one.",
            default=True,
        ),
        Parameter(
            "grace_period",
            (float,),
            "Seconds after a deployment during which no other one starts (skipped-grace).",
            default=600,
        ),
        Parameter(
            "force",
            (bool,),
            "Deploy even when unchanged or within the grace period.",
            default=False,
        ),
        Parameter(
            "timeout",
            (float,),
            "Seconds each step may take: validation, reload command, waiting for the stage.",
            default=120,
        ),
    )

    def check(self, params: dict[str, Any]) -> None:
        """Check the target and its settings; errors name parameters.X."""
        target = params["target"]
        if target not in (DIRECTORY, API):
            raise InvalidInput("parameters.target", target, f'expected "{DIRECTORY}" or "{API}"')
        for key, owner in _ONLY_FOR.items():
            if params[key] is not None and owner != target:
                shown = "***" if key in _SECRET else params[key]
                raise InvalidInput(f"parameters.{key}", shown, f"only used with target {owner}")
        if params["escape_macros"] not in set(MacroPolicy):
            choices = ", ".join(p.value for p in MacroPolicy)
            raise InvalidInput(
                "parameters.escape_macros", params["escape_macros"], f"expected one of {choices}"
            )
        if params["grace_period"] < 0:
            raise InvalidInput("parameters.grace_period", params["grace_period"], "expected >= 0")
        if params["timeout"] <= 0:
            raise InvalidInput("parameters.timeout", params["timeout"], "expected seconds > 0")
        if target == DIRECTORY:
            _check_directory(params)
        else:
            _check_api(params)

    def run(self, params: dict[str, Any], context: JobContext) -> JobResult:
        """Deploy once; a failed deployment fails the run, unchanged/skipped ones succeed."""
        if context.database_url is None:
            raise JobFailed("config-deploy needs the runner's database (no database_url given)")
        database = Database(context.database_url)
        try:
            attempt = run_deployment(
                load_objects(database.engine),
                _target(params, context),
                DeploymentStore(database.engine),
                Policy(
                    params["deploy_when_changed"], float(params["grace_period"]), params["force"]
                ),
                context.clock,
                context.logger,
                context.job_name,
                MacroPolicy(params["escape_macros"]),
            )
        finally:
            database.dispose()
        if attempt.status is DeployStatus.FAILED:
            _show_problems(attempt.output, context)
        return _result(attempt)


def _result(attempt: Attempt) -> JobResult:
    """The run's summary, or JobFailed naming the deployment and the reason."""
    deployment = f"deployment {attempt.deployment_id}"
    if attempt.status is DeployStatus.FAILED:
        raise JobFailed(
            f"{deployment} failed: {attempt.reason} (director deployments show "
            f"{attempt.deployment_id})",
            retry=attempt.retry,
        )
    if attempt.status is DeployStatus.DEPLOYED:
        return JobResult(
            summary=f"{deployment}: {attempt.reason}: {len(attempt.files)} files, "
            f"checksum {attempt.checksum[:12]}"
        )
    return JobResult(summary=f"{deployment}: {attempt.status.value}: {attempt.reason}")


def _show_problems(output: str, context: JobContext) -> None:
    """Copy icinga2's non-information lines into the run's output (they say what is wrong)."""
    lines = [line for line in output.splitlines() if line and "information/" not in line]
    for line in lines[:_MAX_PROBLEM_LINES]:
        context.emit_output(line, "stderr")
    if len(lines) > _MAX_PROBLEM_LINES:
        context.emit_output(f"… {len(lines) - _MAX_PROBLEM_LINES} more lines", "stderr")


def _check_directory(params: dict[str, Any]) -> None:
    """`path` absolute; commands splittable; includes well-formed."""
    path = params["path"]
    if path is None:
        raise InvalidInput("parameters.path", None, f"required with target {DIRECTORY}")
    if not Path(path).is_absolute() or "\n" in path:
        raise InvalidInput("parameters.path", path, "expected an absolute path")
    split_command(params["validate_command"], "parameters.validate_command")
    check_includes(params["validate_includes"], "parameters.validate_includes")
    if params["reload_command"] is not None:
        split_command(params["reload_command"], "parameters.reload_command")


def _check_api(params: dict[str, Any]) -> None:
    """An https URL without credentials; a user and exactly one password source."""
    url = params["url"]
    if url is None:
        raise InvalidInput("parameters.url", None, f"required with target {API}")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidInput("parameters.url", url, "the port is not a number 1-65535") from None
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInput("parameters.url", url, "expected https://host:port")
    if "@" in parts.netloc:
        raise InvalidInput("parameters.url", "***", "put the user and password in their parameters")
    if not params["user"]:
        raise InvalidInput("parameters.user", params["user"], f"required with target {API}")
    if (params["password"] is None) == (params["password_file"] is None):
        raise InvalidInput(
            "parameters.password", "***", "give exactly one of password and password_file"
        )
    if not _PACKAGE.fullmatch(params["package"]):
        raise InvalidInput(
            "parameters.package", params["package"], "expected letters, digits, '_', '-'"
        )
    try:
        zone_prefix(params["zone"])
    except ValueError as exc:
        raise InvalidInput("parameters.zone", params["zone"], str(exc)) from None


def _target(params: dict[str, Any], context: JobContext) -> Target:
    """The configured target, ready to deploy."""
    timeout = float(params["timeout"])
    if params["target"] == DIRECTORY:
        reload = params["reload_command"]
        return DirectoryTarget(
            path=Path(os.path.normpath(params["path"])),  # /a/b/../c and /a/c: one target
            runner=CommandRunner(context.cancel, context.heartbeat, context.on_process),
            logger=context.logger,
            timeout=timeout,
            validate=params["validate"],
            validate_command=params["validate_command"],
            validate_includes=params["validate_includes"],
            reload_command=None if reload is None else split_command(reload, "reload_command"),
        )
    if not params["verify_tls"]:
        context.logger.warning("TLS certificate verification is off for %s", params["url"])
    try:
        context_tls = tls_context(params["ca_file"], params["verify_tls"])
    except (OSError, ssl.SSLError) as exc:
        raise JobFailed(f"parameters.ca_file: cannot load {params['ca_file']!r}: {exc}") from None
    api = IcingaApi(
        params["url"],
        params["user"],
        _password(params),
        context_tls,
        server_name=params["tls_server_name"],
        request_timeout=timeout,
    )
    return ApiTarget(
        api=api,
        url=params["url"],
        package=params["package"],
        zone=params["zone"],
        clock=context.clock,
        logger=context.logger,
        timeout=timeout,
        cancel=context.cancel,
        heartbeat=context.heartbeat,
    )


def _password(params: dict[str, Any]) -> str:
    """The password, or the first line of password_file; never in a message."""
    if params["password"] is not None:
        return str(params["password"])
    path = params["password_file"]
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise JobFailed(f"parameters.password_file: cannot read {path!r}: {exc.strerror}") from None
    password = text.splitlines()[0] if text else ""
    if not password:
        raise JobFailed(f"parameters.password_file: {path!r} is empty")
    return password
