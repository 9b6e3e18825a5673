"""`json`: rows from a JSON file or an http(s) URL; a JSON pointer selects the list of rows."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from director_jobs import __version__
from director_jobs.errors import InvalidInput
from director_jobs.imports.errors import ProviderError
from director_jobs.imports.providers.base import Provider
from director_jobs.imports.providers.json_pointer import parse_pointer, resolve_pointer
from director_jobs.imports.providers.secrets import read_secret
from director_jobs.secrets import Scrubber, is_secret_key

DEFAULT_TIMEOUT = 30.0


class JsonProvider(Provider):
    """Settings: path or url, pointer (''), ca_file, verify_tls (true), timeout (30 s), and for
    https only either `user` with password_file/password_env (basic authentication) or
    token_file/token_env (a bearer token, or with `token_param` a query parameter).

    Secrets come from files or the environment only, never from the URL: they would show
    in `imports show`, `export`, logs and errors. Whatever a server answers, an error that
    repeats a secret is stored and logged with it replaced by ***.
    """

    name = "json"
    optional = (
        "path",
        "url",
        "pointer",
        "ca_file",
        "verify_tls",
        "timeout",
        "user",
        "password_file",
        "password_env",
        "token_file",
        "token_env",
        "token_param",
    )

    def check(self) -> None:
        """Exactly one of path and url; an http(s) URL; a well-formed pointer."""
        self.file = self.path("path")
        self.url = self.text("url")
        if (self.file is None) == (self.url is None):
            raise InvalidInput(
                f"{self.where}.path", self.settings.get("path"), "give either path or url"
            )
        if self.url is not None:
            self._check_url(self.url)
        self.pointer = self.text("pointer", "", empty=True) or ""
        self.tokens = parse_pointer(self.pointer, f"{self.where}.pointer")
        self.ca_file = self.path("ca_file")
        self.verify_tls = self.flag("verify_tls", True)
        self.timeout = self.seconds("timeout", DEFAULT_TIMEOUT)
        self._check_credentials()

    def _check_credentials(self) -> None:
        """Basic (user + one password source) or bearer (one token source), https only."""
        self.user = self.text("user")
        self.password_file = self.path("password_file")
        self.password_env = self.text("password_env")
        self.token_file = self.path("token_file")
        self.token_env = self.text("token_env")
        self.token_param = self.text("token_param")
        password = self.password_file is not None or self.password_env is not None
        token = self.token_file is not None or self.token_env is not None
        where = self.where
        if self.user is not None and (":" in self.user or not self.user):
            raise InvalidInput(f"{where}.user", self.user, "expected a user name without ':'")
        if self.password_file is not None and self.password_env is not None:
            raise InvalidInput(
                f"{where}.password_env", self.password_env, "give password_file or password_env"
            )
        if self.token_file is not None and self.token_env is not None:
            raise InvalidInput(f"{where}.token_env", self.token_env, "give token_file or token_env")
        if (self.user is not None) != password:
            raise InvalidInput(
                f"{where}.user", self.user, "basic authentication needs user and a password source"
            )
        if password and token:
            raise InvalidInput(
                f"{where}.token_file", "***", "give a user and password, or a token, not both"
            )
        if self.token_param is not None and not token:
            raise InvalidInput(
                f"{where}.token_param", self.token_param, "needs token_file or token_env"
            )
        if (password or token) and urllib.parse.urlsplit(self.url or "").scheme != "https":
            raise InvalidInput(
                f"{where}.url",
                self.url or self.settings.get("path"),
                "credentials are only sent over https",
            )

    def _check_url(self, url: str) -> None:
        """http(s), a host, a numeric port, and no credentials (which urllib cannot send)."""
        field = f"{self.where}.url"
        parts = urllib.parse.urlsplit(url)
        if "@" in parts.netloc:
            raise InvalidInput(field, "***", "a user or password cannot be given in the URL")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
        except ValueError:
            raise InvalidInput(field, url, "the port is not a number 1-65535") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(field, url, "expected an http:// or https:// URL")
        for key, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
            if is_credential_parameter(key):
                raise InvalidInput(
                    field,
                    mask_query_credentials(mask_url(url)),
                    f"a credential in the query ({key}=…) would show in logs and exports: "
                    f'give it as token_file or token_env with token_param = "{key}"',
                )

    def masked_settings(self) -> dict[str, Any]:
        """The settings with a password in the URL masked."""
        settings = dict(self.settings)
        if self.url is not None:
            settings["url"] = mask_url(self.url)
        return settings

    def rows(self) -> Iterator[dict[str, Any]]:
        """Load the document, follow the pointer, check that it is a list of objects."""
        self._scrub = Scrubber()
        try:
            body = self._read_file(self.file) if self.file is not None else self._download()
        except ProviderError as exc:  # a server may echo the Authorization header, or a token
            raise ProviderError(self._scrub(str(exc))) from None
        try:
            document = json.loads(body, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise ProviderError(
                f"{self._origin()} is not valid JSON: {exc.msg} at line {exc.lineno} "
                f"column {exc.colno}"
            ) from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProviderError(f"{self._origin()} is not valid JSON: {exc}") from None
        rows = resolve_pointer(document, self.tokens, self.pointer)
        where = f"at pointer {self.pointer!r}" if self.pointer else "at the top level"
        if not isinstance(rows, list):
            raise ProviderError(
                f"{self._origin()}: {where} there is a {_kind(rows)}, expected a list of objects"
            )
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ProviderError(
                    f"{self._origin()}: element {index} {where} is a {_kind(row)}, "
                    "expected an object"
                )
            yield row

    def _authorization(self) -> tuple[str | None, str]:
        """The Authorization header and the URL to fetch, with the secret read now (a secret
        file may change between runs); every form of the secret goes to the scrubber."""
        assert self.url is not None
        if self.user is not None:
            password = read_secret(self.password_file, self.password_env, "password") or ""
            pair = base64.b64encode(f"{self.user}:{password}".encode()).decode("ascii")
            self._scrub = Scrubber([password, pair])
            return f"Basic {pair}", self.url
        token = read_secret(self.token_file, self.token_env, "token")
        if token is None:
            return None, self.url
        self._scrub = Scrubber([token, urllib.parse.quote(token, safe=""), f"Bearer {token}"])
        if self.token_param is None:
            return f"Bearer {token}", self.url
        parts = urllib.parse.urlsplit(self.url)
        query = urllib.parse.urlencode([(self.token_param, token)])
        joined = f"{parts.query}&{query}" if parts.query else query
        return None, urllib.parse.urlunsplit(parts._replace(query=joined))

    def _origin(self) -> str:
        """The file or the masked URL, for messages."""
        return repr(str(self.file)) if self.file is not None else repr(mask_url(self.url or ""))

    @staticmethod
    def _read_file(path: Path) -> bytes:
        """The file's bytes."""
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ProviderError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None

    def _download(self) -> bytes:
        """GET the URL without any proxy from the environment; TLS verified unless told not to."""
        assert self.url is not None
        try:
            context = ssl.create_default_context(
                cafile=str(self.ca_file) if self.ca_file is not None else None
            )
        except (OSError, ssl.SSLError) as exc:
            raise ProviderError(
                f"cannot use ca_file {str(self.ca_file)!r}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=context),
            _NoDowngradeRedirects(),
        )
        headers = {"Accept": "application/json", "User-Agent": f"director-jobs/{__version__}"}
        secret, url = self._authorization()
        if secret is not None:
            headers["Authorization"] = secret
        request = urllib.request.Request(url, headers=headers)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the response (and its socket) open
            raise ProviderError(f"{self._origin()} answered HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise ProviderError(f"cannot fetch {self._origin()}: {_reason(exc.reason)}") from None
        except TimeoutError:
            raise ProviderError(
                f"cannot fetch {self._origin()}: no answer within {self.timeout:g} s"
            ) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # reset, cut-off body
            raise ProviderError(f"cannot fetch {self._origin()}: {_reason(exc)}") from None


class _NoDowngradeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never from https to plain http (TLS would silently go)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        """Refuse an https → non-https redirect with a ProviderError naming the target."""
        old_scheme = urllib.parse.urlsplit(req.full_url).scheme
        new_scheme = urllib.parse.urlsplit(newurl).scheme
        if old_scheme == "https" and new_scheme != "https":
            fp.close()  # urllib closes the redirect's response only when we return
            raise ProviderError(
                f"refused a redirect (HTTP {code}) from https to {mask_url(newurl)}"
            )
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        old_host = urllib.parse.urlsplit(req.full_url).netloc.lower()
        if new is not None and urllib.parse.urlsplit(newurl).netloc.lower() != old_host:
            new.remove_header("Authorization")  # credentials are for the host they name
        return new


def is_credential_parameter(key: str) -> bool:
    """A query parameter that usually carries a credential: `api_key`, `token`, `key`, …"""
    lowered = key.lower()
    return lowered in ("key", "auth", "sig", "signature") or is_secret_key(lowered)


def mask_query_credentials(url: str) -> str:
    """The URL with the value of every credential-looking query parameter replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    shown = [(k, "***" if is_credential_parameter(k) else v) for k, v in pairs]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(shown, safe="*")))


def mask_url(url: str) -> str:
    """The URL with a password in its user part replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _reason(reason: object) -> str:
    """A readable cause: certificate problems say so plainly."""
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {reason.verify_message or reason.reason}"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason.reason or reason}"
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)


def _no_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which are not JSON."""
    raise ValueError(f"{name} is not a JSON value")


def _kind(value: Any) -> str:
    """The JSON name of a value's type."""
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
