"""How long each request took, by route template (`/api/locations/{location_id}`, never the
path itself, so that the labels stay few), method and status class."""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.metrics.instruments import HTTP_REQUEST_SECONDS, method_label

UNMATCHED = "unmatched"
"""The route of a request no route took (a 404, or one refused before routing)."""


class RequestMetrics:
    """ASGI middleware; the outermost of the app's own, so that it times all of them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = str(scope.get("root_path", ""))
        status = 500  # what the client gets if the app raises before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = route_template(scope, root_path)
            method = method_label(scope["method"])
            HTTP_REQUEST_SECONDS.labels(route, method, f"{status // 100}xx").observe(
                time.perf_counter() - started
            )


def route_template(scope: Scope, root_path: str) -> str:
    """The template of the route that took the request (the router notes it in the scope);
    for a mounted app (/static), its prefix and `/{path}`."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str):
        return template
    mounted = str(scope.get("root_path", ""))
    if mounted != root_path and mounted.startswith(root_path):
        return mounted[len(root_path) :] + "/{path}"
    return UNMATCHED
