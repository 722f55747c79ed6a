"""The dashboard's HTTP server: uvicorn on a thread of the hub, on a port it could bind."""

import errno
import logging
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)


class WebServer:
    def __init__(
        self, app: FastAPI, host: str, preferred_port: int, *, reuse_port: bool = False
    ) -> None:
        self._app = app
        self._reuse_port = reuse_port
        self._host = host
        self._preferred_port = preferred_port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> str:
        """Listen (on a free port if the preferred one is taken); returns the base URL."""
        sock = _bind(self._host, self._preferred_port, reuse_port=self._reuse_port)
        port = sock.getsockname()[1]
        self.url = f"http://{self._host}:{port}"
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            log_config=None,  # its records go through the hub's handlers, which escape them
            access_log=False,
            lifespan="off",
            proxy_headers=False,  # the app believes only the proxies its settings trust
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="web", daemon=True
        )
        self._thread.start()
        log.info("dashboard at %s", self.url)
        return self.url

    def wait_started(self, timeout_s: float = 10) -> bool:
        """True once uvicorn serves; False if it died or took longer than `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._server is not None and self._server.started:
                return True
            if self._thread is None or not self._thread.is_alive():
                return False
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def _bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """The listening socket. Sibling web processes share one port (the kernel spreads the
    connections); a lone one that finds its port taken falls back to a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Named TCP, so that asyncio sets TCP_NODELAY on each accepted connection (it checks the
    # protocol): without it every answer on a kept-alive connection waits ~40 ms for Nagle.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port == 0 or reuse_port:
            sock.close()
            raise
        log.warning("port %d on %s is taken; the dashboard uses a free port instead", port, host)
        sock.bind((host, 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
