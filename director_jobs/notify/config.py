"""Notification channels as the config file states them: `[[webhook]]`, `[[mail]]`, `[icinga]`.

Each channel names which jobs it hears of (`jobs`, `tags`; all when both are empty), which
events (`events`: started, finished) and which ends of runs (`on`). Errors are one line
naming the key and the text; secret values and the paths of URLs (a chat hook's URL path
is its secret) are never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from director_jobs.errors import ConfigError, InvalidInput
from director_jobs.model import RunEvent, RunStatus, Trigger
from director_jobs.validation import NAME_PATTERN, parse_duration

EVENTS = ("started", "finished")
EVENT_FINISHED = frozenset({"finished"})
# Which finished runs a channel hears of: every one, every one that no retry follows,
# failed ones (any attempt), failures that no retry follows, the first success after such
# a failure, successes.
ON_FILTERS = ("all", "final", "failure", "final-failure", "recovery", "success")
MAIL_SECURITY = ("starttls", "tls", "none")
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")
# A delivery that fails is tried again after 10 s, 30 s, 90 s, 270 s (×3 each time).
DEFAULT_RETRIES = 4
DEFAULT_TIMEOUT_SECONDS = 10.0
# A receiver that takes longer is down for our purposes (and keeps a sender's thread).
MAX_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Selection:
    """Which runs a channel hears of."""

    jobs: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset({"finished"})
    on: frozenset[str] = frozenset({"all"})

    def covers(self, job_name: str, tags: tuple[str, ...]) -> bool:
        """True when the channel is about this job (by name or tag; every job by default)."""
        if not self.jobs and not self.tags:
            return True
        return job_name in self.jobs or not self.tags.isdisjoint(tags)

    def wants(self, event: RunEvent, previous_failed: bool | None) -> bool:
        """True when `event` passes the filters; `previous_failed` matters for recovery only."""
        if event.event not in self.events:
            return False
        if event.event == "started" or "all" in self.on:
            return True
        failed = event.status.failed
        return (
            ("final" in self.on and event.final)
            or ("failure" in self.on and failed)
            or ("final-failure" in self.on and failed and event.final)
            or ("success" in self.on and event.status is RunStatus.SUCCESS)
            or ("recovery" in self.on and is_recovery(event, previous_failed))
        )


def is_recovery(event: RunEvent, previous_failed: bool | None) -> bool:
    """A success after a failure that no retry followed (a retry's success is not news
    to a channel that heard only of final failures)."""
    return (
        event.status is RunStatus.SUCCESS
        and event.trigger is not Trigger.RETRY
        and bool(previous_failed)
    )


@dataclass(frozen=True)
class Channel:
    """What every channel has: a unique name, a kind, a selection, retries and a timeout."""

    name: str
    kind: str
    selection: Selection
    retries: int = DEFAULT_RETRIES
    timeout: float = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class WebhookChannel(Channel):
    """POST JSON to `url`, signed with HMAC-SHA256 when there is a secret."""

    url: str = ""
    secret: str | None = field(default=None, repr=False)
    ca_file: str | None = None


@dataclass(frozen=True)
class MailChannel(Channel):
    """A mail to `to` through SMTP (`smtp` = host:port) or a local `sendmail` program."""

    to: tuple[str, ...] = ()
    sender: str = ""
    smtp: str | None = None
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sendmail: str | None = None
    ca_file: str | None = None


@dataclass(frozen=True)
class IcingaChannel(Channel):
    """A passive check result for Service `host!job` through the Icinga 2 REST API."""

    url: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    host: str = ""
    ca_file: str | None = None
    server_name: str | None = None


@dataclass(frozen=True)
class NotifyConfig:
    """Every channel, plus the address that links in notifications point to."""

    channels: tuple[Channel, ...] = ()
    link_base: str | None = None  # e.g. https://director.example.com (from [notify] url)

    def __bool__(self) -> bool:
        return bool(self.channels)


def parse_notify(data: dict[str, Any], path: str) -> NotifyConfig:
    """The channels in the config file's data (the other keys are checked elsewhere)."""
    channels: list[Channel] = []
    for position, table in enumerate(_tables(data, "webhook", path)):
        channels.append(_webhook(_Table(table, f"webhook[{position}]", path)))
    for position, table in enumerate(_tables(data, "mail", path)):
        channels.append(_mail(_Table(table, f"mail[{position}]", path)))
    icinga = data.get("icinga")
    if icinga is not None:
        if not isinstance(icinga, dict):
            raise ConfigError(f"config: [icinga] in {path!r} must be a table")
        channels.append(_icinga(_Table(icinga, "icinga", path)))
    names = [channel.name for channel in channels]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"config: channel name {name!r} is used twice in {path!r}")
    link_base = None
    notify = data.get("notify")
    if notify is not None:
        if not isinstance(notify, dict):
            raise ConfigError(f"config: [notify] in {path!r} must be a table")
        notify_table = _Table(notify, "notify", path)
        link_base = notify_table.url("url", required=False, allow_http=True)
        notify_table.finish()
    return NotifyConfig(tuple(channels), link_base.rstrip("/") if link_base else None)


def _tables(data: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    """`[[key]]` tables (an array of tables)."""
    value = data.get(key, [])
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"config: {key} in {path!r} must be tables: [[{key}]]")
    return value


def _webhook(table: _Table) -> WebhookChannel:
    """One `[[webhook]]`."""
    channel = WebhookChannel(
        **table.common("webhook"),
        url=table.url("url", allow_http=table.flag("allow_http")) or "",
        secret=table.secret("secret", required=False),
        ca_file=table.certificates("ca_file"),
    )
    table.finish()
    return channel


def _mail(table: _Table) -> MailChannel:
    """One `[[mail]]`."""
    common = table.common("mail", default_on=("final-failure", "recovery"))
    to = tuple(table.strings("to"))
    if not to:
        raise ConfigError(f"config: {table.at('to')} is required: the addresses to mail")
    for address in to:
        _address(table, "to", address)
    sender = _address(table, "from", table.text("from") or "")
    smtp, sendmail = table.text("smtp"), table.text("sendmail")
    if (smtp is None) == (sendmail is None):
        raise ConfigError(
            f"config: {table.at('smtp')}: give exactly one of smtp (host:port) and sendmail"
        )
    host = ""
    if smtp is not None:
        host, _, port = smtp.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"config: {table.at('smtp')} {smtp!r}: expected host:port")
    security = table.text("security") or "starttls"
    if security not in MAIL_SECURITY:
        raise ConfigError(
            f"config: {table.at('security')} {security!r}: expected {', '.join(MAIL_SECURITY)}"
        )
    if security == "none" and table.data.get("username") and not is_loopback(host.strip("[]")):
        raise ConfigError(
            f"config: {table.at('security')} 'none': a password is sent only over TLS "
            "(or to a loopback relay)"
        )
    channel = MailChannel(
        **common,
        to=to,
        sender=sender,
        smtp=smtp,
        security=security,
        username=table.text("username"),
        password=table.secret("password", required=False),
        sendmail=table.file("sendmail") if sendmail else None,
        ca_file=table.certificates("ca_file"),
    )
    table.finish()
    return channel


def _icinga(table: _Table) -> IcingaChannel:
    """The `[icinga]` table: every run's end that no retry follows (no `events`, no `on`)."""
    common = table.common("icinga", default_name="icinga", filters=False)
    username = table.text("username")
    host = table.text("host")
    if not username:
        raise ConfigError(f"config: {table.at('username')} is required: the Icinga ApiUser")
    if not host:
        raise ConfigError(
            f"config: {table.at('host')} is required: the Icinga host the job services are on"
        )
    channel = IcingaChannel(
        **common,
        url=table.url("url", allow_http=False) or "",
        username=username,
        password=table.secret("password", required=True) or "",
        host=host,
        ca_file=table.certificates("ca_file"),
        server_name=table.text("server_name"),
    )
    table.finish()
    return channel


def _address(table: _Table, key: str, address: str) -> str:
    """A mail address: something@host, no spaces or line breaks (they would forge headers)."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() or c in "<>," for c in address):
        raise ConfigError(f"config: {table.at(key)} {address!r}: expected an address user@host")
    return address


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    import ipaddress  # only for channels that are checked: not on every command's start-up

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown_url(url: str) -> str:
    """`scheme://host:port/…` of `url`: what messages may show (a chat hook's path or
    query string is its secret; credentials are never shown either)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "…"
    address = parts.netloc.rpartition("@")[2]
    rest = "/…" if parts.path not in ("", "/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{address}{rest}"


class _Table:
    """One table of the config file, read key by key; unknown keys are refused at the end."""

    def __init__(self, data: dict[str, Any], where: str, path: str) -> None:
        self.data = data
        self.where = where
        self.path = path
        self.read: set[str] = set()

    def at(self, key: str) -> str:
        """`webhook[0].url in '/etc/director-jobs/config.toml'`."""
        return f"{self.where}.{key} in {self.path!r}"

    def _get(self, key: str) -> Any:
        self.read.add(key)
        return self.data.get(key)

    def text(self, key: str) -> str | None:
        """An optional string."""
        value = self._get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"config: {self.at(key)} must be a string")
        return value or None

    def flag(self, key: str) -> bool:
        """An optional boolean (false by default)."""
        value = self._get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise ConfigError(f"config: {self.at(key)} must be true or false")
        return value

    def strings(self, key: str) -> list[str]:
        """An optional list of strings (a single string is a list of one)."""
        value = self._get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"config: {self.at(key)} must be a list of strings")
        return value

    def choices(
        self, key: str, allowed: tuple[str, ...], default: tuple[str, ...]
    ) -> frozenset[str]:
        """A list of words out of `allowed`."""
        words = self.strings(key) or list(default)
        for word in words:
            if word not in allowed:
                raise ConfigError(
                    f"config: {self.at(key)} {word!r}: expected any of {', '.join(allowed)}"
                )
        return frozenset(words)

    def common(
        self,
        kind: str,
        *,
        default_name: str | None = None,
        default_on: tuple[str, ...] = ("all",),
        filters: bool = True,
    ) -> dict[str, Any]:
        """name, jobs, tags, retries, timeout; and events and on unless not `filters`."""
        name = self.text("name") or default_name
        if name is None:
            raise ConfigError(f"config: {self.at('name')} is required: a name for the channel")
        if not NAME_PATTERN.fullmatch(name):
            raise ConfigError(
                f"config: {self.at('name')} {name!r}: expected 1-64 letters, digits, '.', '_', '-'"
            )
        retries = self._get("retries")
        if retries is None:
            retries = DEFAULT_RETRIES
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise ConfigError(f"config: {self.at('retries')} {retries!r}: expected 0 to 10")
        selection = Selection(
            jobs=frozenset(self.strings("jobs")),
            tags=frozenset(self.strings("tags")),
            events=self.choices("events", EVENTS, ("finished",)) if filters else EVENT_FINISHED,
            on=self.choices("on", ON_FILTERS, default_on) if filters else frozenset({"final"}),
        )
        return {
            "name": name,
            "kind": kind,
            "selection": selection,
            "retries": retries,
            "timeout": self.timeout(),
        }

    def timeout(self) -> float:
        """`timeout`: a duration above 0 and up to MAX_TIMEOUT_SECONDS (10 s by default)."""
        value = self._get("timeout")
        if value is None:
            return DEFAULT_TIMEOUT_SECONDS
        try:
            seconds = parse_duration(value, "timeout")
        except InvalidInput:
            seconds = -1.0
        if not 0 < seconds <= MAX_TIMEOUT_SECONDS:
            raise ConfigError(
                f"config: {self.at('timeout')} {value!r}: expected a duration above 0 and up "
                f"to {MAX_TIMEOUT_SECONDS:g}s, such as 10s"
            )
        return seconds

    def url(self, key: str, *, required: bool = True, allow_http: bool = False) -> str | None:
        """An https URL (http only to a loopback address unless allowed); no credentials."""
        value = self.text(key)
        if value is None:
            if required:
                raise ConfigError(f"config: {self.at(key)} is required")
            return None
        if any(c.isspace() or not c.isprintable() or not c.isascii() for c in value):
            raise ConfigError(
                f"config: {self.at(key)} {shown_url(value)!r}: spaces, control and non-ASCII "
                "characters must be percent-encoded"
            )
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises ValueError for a bad port)
        except ValueError:
            raise ConfigError(
                f"config: {self.at(key)} {shown_url(value)!r}: not a URL (a bad port?)"
            ) from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(
                f"config: {self.at(key)} {shown_url(value)!r}: expected https://host/…"
            )
        if parts.username is not None or parts.password is not None:
            raise ConfigError(
                f"config: {self.at(key)}: credentials in the URL are refused; "
                "use the channel's secret or password keys"
            )
        if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
            raise ConfigError(
                f"config: {self.at(key)} {shown_url(value)!r}: http sends in clear text; "
                "use https (http is allowed to loopback addresses, or with allow_http = true)"
            )
        return value

    def secret(self, key: str, *, required: bool) -> str | None:
        """`key` or `key_file` (its first line); never shown in a message."""
        value, file_key = self._get(key), f"{key}_file"
        path = self._get(file_key)
        if value is not None and path is not None:
            raise ConfigError(f"config: {self.at(key)}: give {key} or {file_key}, not both")
        if value is not None:
            if not isinstance(value, str) or not value:
                raise ConfigError(f"config: {self.at(key)} must be a non-empty string")
            return value
        if path is None:
            if required:
                raise ConfigError(f"config: {self.at(key)} (or {file_key}) is required")
            return None
        if not isinstance(path, str):
            raise ConfigError(f"config: {self.at(file_key)} must be a string")
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise ConfigError(
                f"config: {self.at(file_key)} {path!r}: cannot read: {reason}"
            ) from None
        if not lines or not lines[0]:
            raise ConfigError(f"config: {self.at(file_key)} {path!r}: the first line is empty")
        return lines[0]

    def file(self, key: str) -> str | None:
        """An optional path to a file that exists."""
        value = self.text(key)
        if value is not None and not Path(value).is_file():
            raise ConfigError(f"config: {self.at(key)} {value!r}: no such file")
        return value

    def certificates(self, key: str) -> str | None:
        """An optional file of CA certificates in PEM, loaded once to check it."""
        value = self.file(key)
        if value is not None:
            # Imported here: every command reads the config file, and ssl alone costs
            # ~15 ms of start-up (the health check's plain path imports nothing else).
            import ssl

            from director_jobs.notify.attempt import verified_tls

            try:
                verified_tls(value)
            except (ssl.SSLError, OSError) as exc:
                raise ConfigError(
                    f"config: {self.at(key)} {value!r}: not PEM certificates "
                    f"({getattr(exc, 'reason', None) or exc})"
                ) from None
        return value

    def finish(self) -> None:
        """Refuse keys nothing read (a typo would silently do nothing)."""
        for key in self.data:
            if key not in self.read:
                raise ConfigError(f"config: unknown key {self.where}.{key} in {self.path!r}")
