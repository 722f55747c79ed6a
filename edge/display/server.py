"""The page's server: the standard library's threaded HTTP server on loopback.

    GET  /                 the page        GET /static/<file>   its script and style
    GET  /api/state        the survey in the location's languages, the page's own words,
                           the notices (what is being handled here), whether the camera is
                           on (the page then says so, always in view) and who runs it
    GET  /api/events       Server-Sent Events: a prompt after each press, "state" on change
    POST /api/press        {"button": "happy"}: a smiley pressed on the screen
    POST /api/answer       {"event_id": ..., "option": "queue" | null, "language": "fa"}

Only the kiosk's own browser talks to it: it listens on 127.0.0.1 and refuses any Host
header but its own (a page elsewhere cannot reach it through DNS rebinding).
"""

import json
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from protocol.i18n import Catalogs, load_catalogs
from protocol.messages import Button, KioskNotice
from protocol.surveys import Question, Survey

log = logging.getLogger(__name__)

LOCALES = Path(__file__).with_name("locales")
STATIC = resources.files("edge.display") / "static"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
MAX_BODY_BYTES = 1024
MAX_CLIENTS = 4
CLIENT_QUEUE = 32
KEEPALIVE_S = 15.0
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Prompt:
    """What the page shows after a press: the follow-up `question`, or (None) thanks."""

    event_id: str
    button: Button
    question: Question | None
    answer_s: float


@dataclass(frozen=True)
class CameraNotice:
    """The camera is on: the page says what it reads and that no image is kept or sent."""

    operator: str | None = None
    """Who runs it (name, contact), if the kiosk's config says."""


@dataclass(frozen=True)
class DisplayHooks:
    """What the page may ask of the kiosk."""

    survey: Callable[[], Survey | None]
    press: Callable[[Button], None]
    answer: Callable[[str, str | None, str | None], bool]
    """(event_id, option or None, language) -> whether the follow-up was still open."""
    languages: Callable[[], list[str]]
    """The location's languages when there is no survey (first = default)."""
    notices: Callable[[], Sequence[KioskNotice]] = field(default=lambda: ())
    """What the hub says is being handled at this place (none: nothing shown)."""
    camera: Callable[[], CameraNotice | None] = field(default=lambda: None)
    """The camera notice while the camera is on; None while it is off."""


class KioskDisplay:
    def __init__(
        self, hooks: DisplayHooks, *, port: int = 8765, catalogs: Catalogs | None = None
    ) -> None:
        self._hooks = hooks
        self._catalogs = catalogs or load_catalogs(LOCALES)
        self._clients: list[queue.Queue[dict[str, Any] | None]] = []
        self._lock = threading.Lock()
        self._port = port
        self._server: _Server | None = None

    @property
    def serving(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the kiosk page is not served yet")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        """Serve the page (OSError if its port is taken)."""
        self._server = _Server(("127.0.0.1", self._port), _Handler, display=self)
        threading.Thread(
            target=self._server.serve_forever, name="kiosk-display", daemon=True
        ).start()
        log.info("kiosk page at %s", self.url)

    def stop(self) -> None:
        with self._lock:
            for client in self._clients:
                client.put_nowait(None)
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def prompt(self, prompt: Prompt) -> None:
        """Tell the page about a press (any thread; never raises, never blocks)."""
        self._broadcast(
            {
                "type": "prompt",
                "event_id": prompt.event_id,
                "button": prompt.button.value,
                "question": prompt.question,
                "answer_s": prompt.answer_s,
            }
        )

    def changed(self) -> None:
        """The survey, the languages or the camera changed: the page asks for its state
        again."""
        self._broadcast({"type": "state"})

    def state(self) -> dict[str, Any]:
        survey = self._hooks.survey()
        tags = survey.languages if survey is not None else self._hooks.languages()
        languages = [self._catalogs.language(tag) for tag in tags or ["en"]]
        return {
            "languages": [
                {"tag": tag, "name": language.name, "dir": language.direction}
                for tag, language in zip(tags or ["en"], languages, strict=True)
            ],
            "words": {
                tag: language.texts for tag, language in zip(tags or ["en"], languages, strict=True)
            },
            "survey": None if survey is None else survey.model_dump(mode="json"),
            "notices": self._notices(),
            "camera": self._camera(),
        }

    def _notices(self) -> list[dict[str, Any]]:
        """The notices for the page; none when they cannot be had (the survey goes on)."""
        try:
            return [notice.model_dump(mode="json") for notice in self._hooks.notices()]
        except Exception:
            log.exception("the kiosk's notices could not be read; the page shows none")
            return []

    def _camera(self) -> dict[str, Any] | None:
        """The camera notice for the page; shown, with no operator, if the hook fails."""
        try:
            notice = self._hooks.camera()
        except Exception:
            log.exception("the camera's state could not be read; the page shows its notice")
            notice = CameraNotice()
        return None if notice is None else {"operator": notice.operator}

    def _broadcast(self, message: dict[str, Any]) -> None:
        with self._lock:
            for client in self._clients:
                try:
                    client.put_nowait(message)
                except queue.Full:
                    log.warning("kiosk page not reading its events; one dropped")

    def subscribe(self) -> queue.Queue[dict[str, Any] | None] | None:
        with self._lock:
            if len(self._clients) >= MAX_CLIENTS:
                return None
            client: queue.Queue[dict[str, Any] | None] = queue.Queue(CLIENT_QUEUE)
            self._clients.append(client)
            return client

    def unsubscribe(self, client: queue.Queue[dict[str, Any] | None]) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)

    def handle_press(self, body: dict[str, Any]) -> HTTPStatus:
        try:
            button = Button(str(body.get("button")))
        except ValueError:
            return HTTPStatus.UNPROCESSABLE_ENTITY
        self._hooks.press(button)
        return HTTPStatus.ACCEPTED

    def handle_answer(self, body: dict[str, Any]) -> HTTPStatus:
        event_id, option, language = body.get("event_id"), body.get("option"), body.get("language")
        if not isinstance(event_id, str) or not (option is None or isinstance(option, str)):
            return HTTPStatus.UNPROCESSABLE_ENTITY
        if language is not None and not isinstance(language, str):
            return HTTPStatus.UNPROCESSABLE_ENTITY
        taken = self._hooks.answer(event_id, option, language)
        return HTTPStatus.ACCEPTED if taken else HTTPStatus.CONFLICT


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        display: KioskDisplay,
    ) -> None:
        self.display = display
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("page: " + format, *args)

    def do_GET(self) -> None:
        if not self._own_host():
            return
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._file("kiosk.html")
        elif path.startswith("/static/") and "/" not in path[len("/static/") :]:
            self._file(path[len("/static/") :])
        elif path == "/api/state":
            self._json(HTTPStatus.OK, self.server.display.state())
        elif path == "/api/events":
            self._events()
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        if not self._own_host():
            return
        body = self._body()
        if body is None:
            return
        display = self.server.display
        try:
            if self.path == "/api/press":
                status = display.handle_press(body)
            elif self.path == "/api/answer":
                status = display.handle_answer(body)
            else:
                status = HTTPStatus.NOT_FOUND
        except Exception:
            log.exception("the kiosk could not take the page's %s", self.path)
            status = HTTPStatus.INTERNAL_SERVER_ERROR
        self._json(status, {"status": status.phrase})

    def _own_host(self) -> bool:
        port = self.server.server_address[1]
        if self.headers.get("Host") in {f"127.0.0.1:{port}", f"localhost:{port}"}:
            return True
        self._json(HTTPStatus.MISDIRECTED_REQUEST, {"error": "wrong host"})
        return False

    def _body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "too large"})
            return None
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "a JSON object, please"})
            return None
        return body

    def _file(self, name: str) -> None:
        resource = STATIC / name
        suffix = Path(name).suffix
        if suffix not in CONTENT_TYPES or not resource.is_file():
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        self._send(HTTPStatus.OK, resource.read_bytes(), f"{CONTENT_TYPES[suffix]}; charset=utf-8")

    def _json(self, status: HTTPStatus, document: Any) -> None:
        self._send(status, json.dumps(document, ensure_ascii=False).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _events(self) -> None:
        display = self.server.display
        client = display.subscribe()
        if client is None:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "too many pages open"})
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            while True:
                try:
                    message = client.get(timeout=KEEPALIVE_S)
                except queue.Empty:
                    self.wfile.write(b": keepalive\n\n")
                else:
                    if message is None:
                        return
                    self.wfile.write(f"data: {json.dumps(message)}\n\n".encode())
                self.wfile.flush()
        except OSError:
            log.debug("the kiosk page went away")
        finally:
            display.unsubscribe(client)
