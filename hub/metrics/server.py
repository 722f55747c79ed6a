"""/metrics on a port of its own, on a thread of the hub: on loopback without a token (the
default), anywhere else with the same bearer token as the dashboard's port."""

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from pydantic import SecretStr

from hub.config import MetricsSettings
from hub.metrics.access import CHALLENGE, bearer_matches

log = logging.getLogger(__name__)

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Every scrape is not worth a line of the log."""


class _Server(ThreadingWSGIServer):
    address_family = socket.AF_INET


class _Server6(ThreadingWSGIServer):
    address_family = socket.AF_INET6


def guarded(app: Wsgi, token: SecretStr | None) -> Wsgi:
    """`app`, answering 401 to a request without `Authorization: Bearer <token>` if a token
    is given."""
    if token is None:
        return app

    def guard(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if bearer_matches(environ.get("HTTP_AUTHORIZATION"), token):
            return app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [("WWW-Authenticate", CHALLENGE), ("Content-Type", "text/plain; charset=utf-8")],
        )
        return [b"send the metrics token: Authorization: Bearer <token>\n"]

    return guard


class MetricsServer:
    def __init__(
        self, registry: CollectorRegistry, host: str, port: int, *, token: SecretStr | None
    ) -> None:
        """`token`: asked for if given (None: the port answers anyone who reaches it)."""
        self._app = guarded(make_wsgi_app(registry), token)
        self._host = host
        self._port = port
        self._server: ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> str:
        """Listen; returns the metrics' URL."""
        server_class = _Server6 if ":" in self._host else _Server
        self._server = make_server(
            self._host, self._port, self._app, server_class=server_class, handler_class=_Quiet
        )
        port = self._server.server_address[1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self.url = f"http://{host}:{port}/metrics"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )
        self._thread.start()
        log.info("metrics at %s", self.url)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def configured_server(registry: CollectorRegistry, settings: MetricsSettings) -> MetricsServer:
    """The port of its own as configured: open on loopback, asking for the token elsewhere."""
    token = None if settings.port_is_open else settings.token
    return MetricsServer(registry, settings.host, settings.port or 0, token=token)
