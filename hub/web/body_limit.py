"""A ceiling on what one request may send: a body larger than `max_bytes` is refused with 413
before it is buffered, whether it says its length (Content-Length) or not (chunked).

Without it a form or JSON body is read whole into memory before any route sees it, so one
client posting hundreds of megabytes to a public page (the phone survey, a staff link, the
sign-in form) could take the hub's memory, whatever the route would have refused.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024
"""The largest legitimate body, a survey file of 64 000 characters in JSON, is well under."""


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await _refuse(send, self.max_bytes)
            return
        await _Counted(self.app, self.max_bytes, receive, send).run(scope)


class _Counted:
    """One request whose body is counted as it arrives. Past the ceiling the 413 goes out at
    once (if nothing was answered yet), the app is told the client has gone, and whatever
    it answers afterwards is dropped."""

    def __init__(self, app: ASGIApp, max_bytes: int, receive: Receive, send: Send) -> None:
        self._app, self._max_bytes = app, max_bytes
        self._receive, self._send = receive, send
        self._received = 0
        self._started = False
        self._refused = False

    async def run(self, scope: Scope) -> None:
        await self._app(scope, self.receive, self.send)

    async def receive(self) -> Message:
        if self._refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._max_bytes and not self._started:
                self._refused = True
                await _refuse(self._send, self._max_bytes)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self._refused:
            return
        self._started = self._started or message["type"] == "http.response.start"
        await self._send(message)


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the server refuses a malformed length itself
    return 0


async def _refuse(send: Send, max_bytes: int) -> None:
    body = f"a request body has at most {max_bytes} bytes\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
