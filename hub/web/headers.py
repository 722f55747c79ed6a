"""What every answer of the dashboard carries: the browser's security headers, and cookies
marked Secure whenever the hub is reached over HTTPS (directly or through a trusted proxy)."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",  # no inline script, no eval: an injected <script> does not run
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
STATIC_PREFIX = "/static/"
CAPABILITY_PREFIXES = ("/s/",)
"""Pages whose address is the key (a staff task's signed link): no referrer, anywhere."""


class SecurityHeaders:
    """ASGI middleware; `secure_cookies` marks cookies Secure even over plain HTTP."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                if https or self.secure_cookies:
                    message["headers"] = [
                        _secure(name, value) for name, value in message["headers"]
                    ]
                headers = MutableHeaders(scope=message)
                headers.update(SECURITY_HEADERS)
                if scope["path"].startswith(CAPABILITY_PREFIXES):
                    headers["Referrer-Policy"] = "no-referrer"
                if https:
                    headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
                if not scope["path"].startswith(STATIC_PREFIX):
                    headers.setdefault("Cache-Control", "no-store")  # pages hold personal data
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secure(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    if name.lower() != b"set-cookie":
        return name, value
    attributes = {part.strip().lower() for part in value.split(b";")[1:]}
    return name, value if b"secure" in attributes else value + b"; secure"
