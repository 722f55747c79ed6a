"""POSTing an alert to a webhook without leaking its secrets or reaching into the network.

A webhook URL often holds secrets (`user:token@`, a secret path or query): only
`redacted(url)` is ever logged or stored. Credentials in the URL go out as an
`Authorization: Basic` header, a configured token as `Bearer`.

The host is resolved at every delivery and each address it resolves to must be public
(not loopback, private, link-local, unspecified, multicast or reserved) unless private
targets are allowed; the connection goes to the very address that was checked, so a DNS
answer that changes in between (rebinding) cannot turn it inwards. Redirects are not
followed: one could point inwards, and a POST's body does not survive most of them anyway.

A delivery has `Webhook.deadline_s` in all to connect, shake hands, send and read the answer:
a receiver that trickles its answer a byte at a time, each within the socket's timeout, would
otherwise hold this delivery, and every later one of the alert tick, for hours. Past the
deadline the connection is shut, the attempt fails and is retried as any other failure.
"""

import base64
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from protocol.errors import ConfigError, SeedError
from protocol.text import control_character_in, for_log

TIMEOUT_S = 10  # for each step: connecting, a read, a write
MAX_ANSWER_BYTES = 64 * 1024
ALLOW_SETTING = "SEED_HUB_WEBHOOK_ALLOW_PRIVATE=true"
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
Resolved = tuple[socket.AddressFamily, socket.SocketKind, int, tuple[Any, ...]]
"""One address of the host, as a socket takes it: (family, type, proto, sockaddr)."""


class WebhookError(SeedError):
    """The webhook did not take the alert; the message holds no secret of its URL."""


def redacted(url: str) -> str:
    """scheme://host[:port]/… : credentials, path and query masked, for logs and the database."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unreadable URL)"
    host = parts.hostname
    if not host:
        return "(a URL without a host)"
    host = f"[{host}]" if ":" in host else host
    credentials = "***@" if "@" in parts.netloc else ""
    rest = "/…" if parts.path not in ("", "/") or parts.query or parts.fragment else ""
    return for_log(f"{parts.scheme}://{credentials}{host}{port}{rest}")


def refusal(address: IpAddress) -> str | None:
    """Why a webhook may not be sent to this address ("loopback", …), or None if it is public."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return refusal(embedded)
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


def _embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    """What goes in the request line: the path and the query."""
    authorization: str | None = field(repr=False)
    shown: str
    """The redacted URL."""
    secrets: tuple[str, ...] = field(repr=False)
    """Parts of the URL (and the token) that must never appear in a message."""

    @classmethod
    def parse(cls, url: str, *, token: str | None = None) -> "Target":
        shown = redacted(url)
        if control_character_in(url) or " " in url:
            raise ConfigError(f"the webhook URL {shown} holds a space or a control character")
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ConfigError(f"the webhook URL {shown} cannot be read (its port?)") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"the webhook URL {shown} needs http:// or https:// and a host")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=port,
            path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            authorization=_authorization(parts, token, shown),
            shown=shown,
            secrets=_secrets(url, parts, token),
        )

    def scrubbed(self, text: object) -> str:
        """`text` with every secret part of the URL masked."""
        message = str(text)
        for secret in self.secrets:
            message = message.replace(secret, "…")
        return for_log(message)


def _authorization(parts: SplitResult, token: str | None, shown: str) -> str | None:
    if token and control_character_in(token):
        raise ConfigError("the webhook token holds a control character")
    if parts.username is None:
        return f"Bearer {token}" if token else None
    if token:
        raise ConfigError(
            f"the webhook {shown} has credentials in its URL and a token: give one of them"
        )
    credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    if control_character_in(credentials):
        raise ConfigError(f"the credentials of the webhook {shown} hold a control character")
    return "Basic " + base64.b64encode(credentials.encode()).decode("ascii")


def _secrets(url: str, parts: SplitResult, token: str | None) -> tuple[str, ...]:
    userinfo = parts.netloc.rpartition("@")[0]
    pieces = (url, userinfo, parts.password, parts.path, parts.query, token)
    found = {p for p in pieces if p and p != "/"}
    found |= {unquote(p) for p in found}
    return tuple(sorted(found, key=len, reverse=True))


class Webhook:
    """One webhook URL; `post` sends a body there or raises WebhookError."""

    deadline_s: float = 15

    def __init__(self, url: str, *, token: str | None = None, allow_private: bool = False) -> None:
        self.target = Target.parse(url, token=token)
        self.allow_private = allow_private
        try:
            literal = ipaddress.ip_address(self.target.host)
        except ValueError:
            return  # a name: checked when it is resolved, at each delivery
        self._check(literal, ConfigError)

    def post(
        self, body: bytes, *, idempotency_key: str, extra_headers: Mapping[str, str] | None = None
    ) -> None:
        """POST the JSON `body`; `extra_headers` (a signature, say) go out beside ours."""
        target = self.target
        headers = {
            **(extra_headers or {}),
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
        }
        if target.authorization:
            headers["Authorization"] = target.authorization
        try:
            status, reason, location = self._exchange(body, headers)
        except WebhookError:
            raise
        except Exception as exc:  # ssl, http.client and socket errors alike; secrets scrubbed
            detail = target.scrubbed(exc) or type(exc).__name__
            raise WebhookError(f"webhook {target.shown}: {detail}") from None
        if 300 <= status < 400:
            raise WebhookError(
                f"webhook {target.shown} answered {status}, a redirect to "
                f"{redacted(location or '')}: redirects are not followed, configure the final URL"
            )
        if not 200 <= status < 300:
            raise WebhookError(
                f"webhook {target.shown} answered {status} {target.scrubbed(reason)}"
            )

    def _exchange(self, body: bytes, headers: dict[str, str]) -> tuple[int, str, str | None]:
        deadline = time.monotonic() + self.deadline_s
        sock = self._open(self._resolve(), deadline)
        with _shut_at(sock, deadline) as shut:
            try:
                return self._request(sock, body, headers)
            except (OSError, http.client.HTTPException):
                if shut.is_set():
                    raise WebhookError(self._too_slow()) from None
                raise

    def _request(
        self, sock: socket.socket, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str, str | None]:
        connection = self._connection(sock)
        try:
            connection.request("POST", self.target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_ANSWER_BYTES)
            return response.status, response.reason, response.getheader("Location")
        finally:
            connection.close()

    def _connection(self, sock: socket.socket) -> http.client.HTTPConnection:
        """A connection over `sock`, already open to a checked address (TLS from here on)."""
        target = self.target
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            context = ssl.create_default_context()
            connection = http.client.HTTPSConnection(
                target.host, target.port, timeout=TIMEOUT_S, context=context
            )
            sock = context.wrap_socket(sock, server_hostname=target.host)
        else:
            connection = http.client.HTTPConnection(target.host, target.port, timeout=TIMEOUT_S)
        connection.sock = sock
        return connection

    def _too_slow(self) -> str:
        return f"webhook {self.target.shown}: no complete answer within {self.deadline_s:g} s"

    def _resolve(self) -> list[Resolved]:
        """Every address of the host, each one checked."""
        target = self.target
        try:
            found = socket.getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except OSError as exc:
            raise WebhookError(
                f"webhook {target.shown}: cannot resolve {target.host}: {exc}"
            ) from None
        for *_, sockaddr in found:
            self._check(ipaddress.ip_address(sockaddr[0]), WebhookError)
        return [(family, kind, proto, sockaddr) for family, kind, proto, _, sockaddr in found]

    def _check(self, address: IpAddress, error: type[SeedError]) -> None:
        why = refusal(address)
        if why is not None and not self.allow_private:
            raise error(
                f"webhook {self.target.shown}: {self.target.host} is {address}, a {why} address;"
                f" webhooks go to public addresses unless {ALLOW_SETTING}"
            )

    def _open(self, addresses: list[Resolved], deadline: float) -> socket.socket:
        """A TCP connection to the first address that answers before the deadline."""
        failure: OSError = OSError("no address")
        for family, kind, proto, sockaddr in addresses:
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                raise WebhookError(self._too_slow())
            sock = socket.socket(family, kind, proto)
            sock.settimeout(min(TIMEOUT_S, left_s))
            try:
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            sock.settimeout(TIMEOUT_S)
            return sock
        raise failure


@contextmanager
def _shut_at(sock: socket.socket, deadline: float) -> Iterator[threading.Event]:
    """Shuts the connection down at `deadline` (time.monotonic), which wakes a read or a write
    blocked on it; the event is set if it came to that."""
    twin = sock.dup()  # the same connection, still open when TLS has taken `sock` over
    shut = threading.Event()

    def shut_down() -> None:
        shut.set()
        with suppress(OSError):
            twin.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), shut_down)
    timer.daemon = True
    timer.start()
    try:
        yield shut
    finally:
        timer.cancel()
        timer.join()  # shut_down, if running, ends before its socket is closed
        twin.close()
