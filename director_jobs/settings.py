"""Frozen, validated configuration: TOML file, overridden by environment, overridden by flags."""

from __future__ import annotations

import contextlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from director_jobs.errors import ConfigError, InvalidInput
from director_jobs.validation import zone

if TYPE_CHECKING:
    from director_jobs.notify.config import NotifyConfig

SYSTEM_CONFIG = Path("/etc/director-jobs/config.toml")
SYSTEM_DATA_DIR = Path("/var/lib/director-jobs")
DB_FILE_NAME = "jobs.db"
# The config file's channel tables (director_jobs/notify/config.py reads them, and is
# imported only when one is there: every command reads the config file).
NOTIFY_KEYS = ("webhook", "mail", "icinga", "notify")
# The web page's table: `[web.users]` maps users a trusted proxy names to roles.
WEB_KEY = "web"
# The roles of tokens and web users; each may do what the ones before it may, and more.
ROLES = ("viewer", "operator", "admin")
FILE_KEYS = {"database_url": str, "timezone": str, "log_level": str, "containment": str}
# How runners hold a job's processes: "auto" (a cgroup per job where the runner may make
# one, else process groups) or "process-group" (never cgroups).
CONTAINMENTS = ("auto", "process-group")


@dataclass(frozen=True)
class Settings:
    """Everything the core needs from the outside world, resolved once."""

    database_url: str
    timezone: str
    config_file: Path | None
    log_level: str | None = None
    containment: str = "auto"
    notify: NotifyConfig | None = None  # webhooks, mail, Icinga; None: no channel tables
    web_users: dict[str, str] = field(default_factory=dict)  # proxy user -> role

    def describe(self) -> dict[str, str]:
        """The effective configuration with secrets masked, for the start-up log."""
        from director_jobs.db.engine import safe_url

        return {
            "database_url": safe_url(self.database_url),
            "timezone": self.timezone,
            "config_file": str(self.config_file) if self.config_file else "(none)",
            "containment": self.containment,
        }


def read_config_file(path: Path | None, explicit: bool) -> dict[str, Any]:
    """Read the TOML file; a missing default file is fine, a missing explicit one is not."""
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"config: cannot read {str(path)!r}: no such file") from None
        return {}
    except PermissionError:
        raise ConfigError(f"config: cannot read {str(path)!r}: permission denied") from None
    except IsADirectoryError:
        raise ConfigError(f"config: cannot read {str(path)!r}: it is a directory") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {str(path)!r} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; e.g. a UTF-16 file or a binary one
        raise ConfigError(
            f"config: {str(path)!r} is not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from None
    except RecursionError:
        raise ConfigError(f"config: {str(path)!r} nests arrays or tables too deeply") from None
    _check_keys(data, path)
    return data


def _check_keys(data: dict[str, Any], path: Path) -> None:
    """Refuse unknown top-level keys and non-string values (channel tables: parse_notify)."""
    for key, value in data.items():
        if key in NOTIFY_KEYS or key == WEB_KEY:
            continue
        if key not in FILE_KEYS:
            known = ", ".join((*FILE_KEYS, *NOTIFY_KEYS, WEB_KEY))
            raise ConfigError(f"config: unknown key {key!r} in {str(path)!r}; known keys: {known}")
        if not isinstance(value, FILE_KEYS[key]):
            raise ConfigError(f"config: key {key!r} in {str(path)!r} must be a string")


def default_database_url() -> str:
    """SQLite in the service's state folder, or in the user's data folder.

    The service's folder (systemd's StateDirectory=, /var/lib/director-jobs) wins for the
    service itself, for root and for members of the folder's group, whenever it exists:
    an administrator's `director jobs add` must reach the database the daemon reads,
    never a private one in /root that nothing runs.
    """
    state = os.environ.get("STATE_DIRECTORY")  # set by systemd for StateDirectory=
    if state:
        return _sqlite_in(Path(state.split(":")[0]))
    if _may_use_system_folder():
        return _sqlite_in(SYSTEM_DATA_DIR)
    if os.environ.get("INVOCATION_ID") and os.geteuid() == 0:  # a system unit without it
        return _sqlite_in(SYSTEM_DATA_DIR, create=True)
    base = os.environ.get("XDG_DATA_HOME")
    if not base:
        try:
            base = str(Path.home() / ".local" / "share")
        except RuntimeError:  # no HOME and no passwd entry
            raise ConfigError(
                "database_url: no home folder to keep the default database in; "
                "give --db or DIRECTOR_JOBS_DATABASE_URL"
            ) from None
    return _sqlite_in(Path(base) / "director-jobs", create=True)


def _may_use_system_folder() -> bool:
    """The service's folder exists, and this is root, its owner or a member of its group."""
    try:
        folder = SYSTEM_DATA_DIR.stat()
    except OSError:
        return False
    if os.geteuid() in (0, folder.st_uid):
        return True
    return folder.st_gid in os.getgroups() and (SYSTEM_DATA_DIR / DB_FILE_NAME).exists()


def _sqlite_in(folder: Path, *, create: bool = False) -> str:
    """The URL of jobs.db in `folder` (made first with `create`); ConfigError if it cannot be."""
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"database_url: cannot create the default folder {str(folder)!r}: "
                f"{exc.strerror or exc}; give --db or DIRECTOR_JOBS_DATABASE_URL"
            ) from None
    return f"sqlite:///{folder / DB_FILE_NAME}"


def system_timezone() -> str:
    """The machine's zone name (TZ, /etc/timezone, the /etc/localtime link), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    try:
        target = str(Path("/etc/localtime").readlink())
        candidates.append(target.partition("zoneinfo/")[2])
    except OSError:
        pass
    for name in candidates:
        if not name:
            continue
        try:
            zone(name)
        except InvalidInput:
            continue
        return name
    return "UTC"


def load_settings(
    *,
    config_path: str | None,
    database_url: str | None,
    timezone: str | None,
    containment: str | None = None,
) -> Settings:
    """Resolve the settings; the keyword values come from flags or the environment."""
    explicit = bool(config_path)
    path = Path(config_path) if config_path else (SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else None)
    values = read_config_file(path, explicit)
    tz = timezone or values.get("timezone") or system_timezone()
    try:
        zone(tz)
    except InvalidInput as exc:
        raise ConfigError(str(exc).replace("timezone:", "config timezone:", 1)) from None
    url = database_url or values.get("database_url") or default_database_url()
    level = values.get("log_level")
    if level is not None and level.lower() not in ("trace", "debug", "info", "warning", "error"):
        raise ConfigError(
            f"config: log_level {level!r} in {str(path)!r}: "
            "expected trace, debug, info, warning or error"
        )
    contain = containment or values.get("containment") or "auto"
    if contain not in CONTAINMENTS:
        raise ConfigError(
            f"config: containment {contain!r} in {str(path)!r}: expected auto or process-group"
        )
    return Settings(
        database_url=url,
        timezone=tz,
        config_file=path,
        log_level=level,
        containment=contain,
        notify=_channels(values, path),
        web_users=_web_users(values.get(WEB_KEY), path),
    )


def _web_users(table: Any, path: Path | None) -> dict[str, str]:
    """`[web.users]` of the config file: user name -> role, each checked."""
    if table is None:
        return {}
    where = str(path)
    if not isinstance(table, dict) or set(table) - {"users"}:
        raise ConfigError(f"config: [web] in {where!r} may only hold a 'users' table")
    users = table.get("users", {})
    if not isinstance(users, dict):
        raise ConfigError(f"config: web.users in {where!r} must be a table of user = role")
    for user, role in users.items():
        if not user.strip() or len(user) > 255 or any(c.isspace() for c in user):
            raise ConfigError(f"config: web.users in {where!r}: {user!r} is not a user name")
        if role not in ROLES:
            raise ConfigError(
                f"config: web.users.{user} in {where!r}: {role!r} is not a role; "
                "expected viewer, operator or admin"
            )
    return dict(users)


def _channels(values: dict[str, Any], path: Path | None) -> NotifyConfig | None:
    """The notification channels of the config file, or None when it has no such tables."""
    if not any(key in values for key in NOTIFY_KEYS):
        return None
    from director_jobs.notify.config import parse_notify

    return parse_notify(values, str(path))
