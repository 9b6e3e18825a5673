"""`director serve`: the HTTP API and the web page in a process of its own."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from director_jobs.cli.app import App
from director_jobs.cli.root import root
from director_jobs.db.database import Database
from director_jobs.errors import ConfigError, InvalidInput

pass_app = click.make_pass_decorator(App, ensure=True)
log = logging.getLogger("director_jobs.api")

DEFAULT_LISTEN = "127.0.0.1:8470"
# What an HTTP header's name may be (RFC 9110 token, as proxies send user headers).
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")


@dataclass(frozen=True)
class Listen:
    """Where the server listens."""

    host: str
    port: int

    @property
    def url_host(self) -> str:
        """The host as a URL writes it (an IPv6 address in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host


def parse_listen(text: str) -> Listen:
    """`127.0.0.1:8470`, `[::1]:8470` or `0.0.0.0:8470` -> Listen."""
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isascii() or not port.isdigit():
        raise InvalidInput("listen", text, "expected HOST:PORT, e.g. 127.0.0.1:8470")
    if not 1 <= int(port) <= 65535:
        raise InvalidInput("listen", text, "expected a port from 1 to 65535")
    if any(c.isspace() or c in "/[]" for c in host):
        raise InvalidInput("listen", text, "expected HOST:PORT, e.g. 127.0.0.1:8470")
    return Listen(host, int(port))


def _tls_files(cert: str | None, key: str | None) -> dict[str, Any]:
    """uvicorn's TLS options; both files or neither, and both readable."""
    if (cert is None) != (key is None):
        field = "tls_key" if key is None else "tls_cert"
        raise InvalidInput(field, None, "--tls-cert and --tls-key go together")
    if cert is None or key is None:
        return {}
    for field, path in (("tls_cert", cert), ("tls_key", key)):
        try:
            Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"{field}: cannot read {path!r}: {exc.strerror}") from None
    return {"ssl_certfile": cert, "ssl_keyfile": key}


def _root_path(text: str) -> str:
    """A path prefix such as /director-jobs (behind a reverse proxy), or ''."""
    if not text:
        return ""
    if not text.startswith("/") or text.endswith("/") or any(c.isspace() for c in text):
        raise InvalidInput("root_path", text, "expected a path such as /director-jobs")
    return text


@root.command("serve")
@click.option(
    "--listen", default=DEFAULT_LISTEN, show_default=True, metavar="HOST:PORT", help="Address."
)
@click.option("--tls-cert", metavar="FILE", help="Serve HTTPS with this certificate (PEM).")
@click.option("--tls-key", metavar="FILE", help="The certificate's private key (PEM).")
@click.option(
    "--root-path", default="", metavar="/PREFIX", help="The path prefix a reverse proxy adds."
)
@click.option(
    "--trusted-proxy-header",
    metavar="NAME",
    help="Take the web user from this header of an authenticating proxy (e.g. X-Remote-User); "
    "roles from [web.users] of the config file. Off by default.",
)
@pass_app
def serve(
    app: App,
    listen: str,
    tls_cert: str | None,
    tls_key: str | None,
    root_path: str,
    trusted_proxy_header: str | None,
) -> None:
    """Serve the web page at / and the HTTP API under /api/v1 (docs at /api/v1/docs),
    with Prometheus metrics at /metrics, on the jobs' database.

    It runs beside the runner (`director jobs run --forever`), not instead of it. Make
    tokens with `director tokens add`; log in to the page with one.

    \b
    Examples:
      director serve
      director serve --listen 0.0.0.0:8470 --tls-cert api.pem --tls-key api.key
      director serve --trusted-proxy-header X-Remote-User
    """
    where = parse_listen(listen)
    if trusted_proxy_header is not None and not _HEADER_NAME.fullmatch(trusted_proxy_header):
        raise InvalidInput(
            "trusted_proxy_header",
            trusted_proxy_header,
            "expected a header name such as X-Remote-User",
        )
    tls = _tls_files(tls_cert, tls_key)
    prefix = _root_path(root_path)
    app.raise_log_level("info", asked=False)
    checked = app.database  # connects and migrates first: a bad URL fails here, exit 78

    from director_jobs.api.context import ApiContext  # the web stack: this command only
    from director_jobs.api.server import serve as run_server
    from director_jobs.api.threads import REQUEST_THREADS
    from director_jobs.web.access import WebOptions
    from director_jobs.web.app import create_site

    # One pooled connection per request thread: with fewer, busy moments open and
    # close SQLite connections (and their PRAGMAs) for every request beyond the pool.
    database = Database(checked.url, pool_size=REQUEST_THREADS)
    checked.dispose()

    scheme = "https" if tls else "http"
    log.info(
        "serving the page and the API on %s://%s:%d%s/", scheme, where.url_host, where.port, prefix
    )
    if trusted_proxy_header:
        log.warning(
            "trusting the %s header for web users: reach this server through the proxy only",
            trusted_proxy_header,
        )
    context = ApiContext(app.settings, database, app.clock)
    options = WebOptions(trusted_proxy_header, app.settings.web_users, secure_cookies=bool(tls))
    if not run_server(create_site(context, options), where.host, where.port, prefix, tls):
        raise ConfigError(f"listen: cannot listen on {listen!r} (see the error above)")
