"""Run the API with uvicorn, and tell systemd READY=1 once it listens."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from director_jobs.systemd import Notifier


class NotifyingServer(uvicorn.Server):
    """uvicorn's server with a READY=1 (and STOPPING=1) for systemd's Type=notify."""

    def __init__(self, config: uvicorn.Config, notifier: Notifier) -> None:
        super().__init__(config)
        self.notifier = notifier

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Bind and listen; READY=1 only when that worked."""
        await super().startup(sockets)
        if self.started:
            self.notifier.ready("serving the API")

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """STOPPING=1, then let open requests finish."""
        self.notifier.stopping("stopping the API")
        await super().shutdown(sockets)


def serve(app: ASGIApp, host: str, port: int, root_path: str, tls: dict[str, Any]) -> bool:
    """Serve `app` until SIGTERM/SIGINT; False when it could not start listening."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        root_path=root_path,
        access_log=False,  # the guards log requests without their query strings
        log_config=None,  # our handlers (journald, colour) stay in charge
        server_header=False,
        lifespan="off",
        **tls,
    )
    server = NotifyingServer(config, Notifier())
    try:
        server.run()  # on uvloop when it is installed (loop="auto")
    except SystemExit:  # uvicorn exits 1 when it cannot bind; the caller says why
        return False
    return server.started
