"""The `directory` target: validate in a staging folder beside the target, then move files in.

The staging folder lies in the target's parent, so that every file is moved in with one
atomic rename (same file system). Files named after object types (hosts.conf, …) belong to
the job: replaced, or removed when their type has no objects any more; other files in the
directory are left alone, and so is a file of such a name that we did not write (a stock
conf.d/services.conf): the deployment refuses to go on. A failed validation changes nothing
in the target directory.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from director_jobs.deploy.commands import CommandRunner, resolve_program
from director_jobs.deploy.render import HEADER, MANAGED_FILES, RenderedConfig
from director_jobs.deploy.target import DeployOutcome
from director_jobs.deploy.validate import ValidatorMissing, validate_tree
from director_jobs.errors import DirectorJobsError

STAGING_PREFIX = ".{name}.staging-"


def write_files(folder: Path, files: Mapping[str, str]) -> None:
    """Write each file under `folder` (UTF-8, `\\n` line ends), flushed to disk."""
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())


class ForeignFile(DirectorJobsError):
    """A file where ours would go holds something we did not write; we leave it alone."""


def check_ours(target: Path, prefix: str = "") -> None:
    """Raise ForeignFile when a managed file name in `target` lacks our header line."""
    for name in sorted(MANAGED_FILES):
        path = target / (prefix + name)
        try:
            with path.open("r", encoding="utf-8", errors="replace") as handle:
                first = handle.readline()
        except FileNotFoundError:
            continue
        if first != HEADER.splitlines(keepends=True)[0]:
            raise ForeignFile(
                f"{path} was not written by director-jobs; it is neither replaced nor removed "
                "(move it away, or deploy into a folder of its own)"
            )


def install(staging: Path, target: Path, files: Mapping[str, str], prefix: str = "") -> None:
    """Move the files from `staging` into `target`; remove managed files no longer rendered."""
    check_ours(target, prefix)
    target.mkdir(parents=True, exist_ok=True)
    for relative in sorted(files):
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (staging / relative).replace(target / relative)
    for stale in sorted({prefix + name for name in MANAGED_FILES} - set(files)):
        (target / stale).unlink(missing_ok=True)


@dataclass
class DirectoryTarget:
    """Deploys into `path`, validated by `validate_command`, then `reload_command`."""

    path: Path
    runner: CommandRunner
    logger: logging.LoggerAdapter[logging.Logger]
    timeout: float
    validate: bool = True
    validate_command: str | Sequence[str] = "icinga2 daemon -C"
    validate_includes: Sequence[str] = ()
    reload_command: list[str] | None = None
    prefix: str = ""

    @property
    def name(self) -> str:
        """`directory:/path`."""
        return f"directory:{self.path}"

    def deploy(self, config: RenderedConfig) -> DeployOutcome:
        """Stage, validate, move in, reload; any failure before the move changes nothing."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._remove_leftovers()
            staging = Path(
                tempfile.mkdtemp(
                    dir=self.path.parent, prefix=STAGING_PREFIX.format(name=self.path.name)
                )
            )
        except OSError as exc:
            return DeployOutcome(False, "", f"cannot prepare {self.path}: {_why(exc)}")
        try:
            return self._deploy(config, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _deploy(self, config: RenderedConfig, staging: Path) -> DeployOutcome:
        """The steps after the staging folder exists."""
        try:
            check_ours(self.path, self.prefix)  # before validating: it would be refused anyway
            write_files(staging, config.files)
        except ForeignFile as exc:
            return DeployOutcome(False, "", str(exc))
        except OSError as exc:
            return DeployOutcome(False, "", f"cannot write the configuration: {_why(exc)}")
        output = ""
        if self.validate:
            try:
                result = validate_tree(
                    staging,
                    command=self.validate_command,
                    includes=self.validate_includes,
                    runner=self.runner,
                    timeout=self.timeout,
                )
            except ValidatorMissing:
                return DeployOutcome(
                    False,
                    "",
                    f"parameters.validate_command: {self.validate_command!r} is not installed "
                    "(apt-get install icinga2), or set parameters.validate to false",
                    retry=False,
                )
            # Messages name the staging folder; the files will live in the target.
            output = result.output.replace(str(staging), str(self.path))
            if not result.ok:  # refused: the same configuration fails again; a timeout may not
                return DeployOutcome(False, output, result.reason, retry=result.timed_out)
            self.logger.info("icinga2 accepted the configuration")
        else:
            self.logger.warning("parameters.validate is false: the configuration is not checked")
        try:
            install(staging, self.path, config.files, self.prefix)
        except ForeignFile as exc:  # appeared while icinga2 validated
            return DeployOutcome(False, output, str(exc))
        except OSError as exc:
            return DeployOutcome(False, output, f"cannot install into {self.path}: {_why(exc)}")
        self.logger.info("wrote %d files to %s", len(config.files), self.path)
        return self._reload(output)

    def _reload(self, output: str) -> DeployOutcome:
        """Run the reload command, when there is one; its failure fails the deployment."""
        if self.reload_command is None:
            return DeployOutcome(True, output, "deployed")
        argv = resolve_program(self.reload_command)
        if argv is None:
            return DeployOutcome(
                False, output, f"reload command {self.reload_command[0]!r} not found"
            )
        result = self.runner.run(argv, self.timeout)
        output = "\n".join(p for p in (output, "--- reload ---", result.output) if p)
        if result.timed_out:
            return DeployOutcome(False, output, f"reload took longer than {self.timeout:g} s")
        if result.exit_code != 0:
            return DeployOutcome(
                False,
                output,
                f"reload command exited with {result.exit_code}; the files are in place",
            )
        self.logger.info("reload command succeeded")
        return DeployOutcome(True, output, "deployed and reloaded")

    def _remove_leftovers(self) -> None:
        """Remove staging folders that a killed run left beside the target."""
        start = STAGING_PREFIX.format(name=self.path.name)
        for leftover in self.path.parent.iterdir():
            if leftover.name.startswith(start) and leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)


def _why(exc: OSError) -> str:
    """`Permission denied: '/etc/x'` rather than `[Errno 13] …`."""
    if exc.filename is not None:
        return f"{exc.strerror}: {str(exc.filename)!r}"
    return exc.strerror or str(exc)
