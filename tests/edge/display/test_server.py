"""The kiosk page's server over real HTTP on loopback: state (with the hub's notices and
the camera notice), presses, answers, events, and the refusals that keep anything but the
kiosk's own browser out."""

import dataclasses
import http.client
import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from edge.display.server import CameraNotice, DisplayHooks, KioskDisplay, Prompt
from protocol.messages import Button, KioskNotice
from protocol.surveys import Survey
from tests.protocol.test_surveys import survey as survey_document


class Kiosk:
    """What the page talks to: a survey, and records of what it was asked."""

    def __init__(self) -> None:
        self.survey: Survey | None = Survey.model_validate(survey_document())
        self.presses: list[Button] = []
        self.answers: list[tuple[str, str | None, str | None]] = []
        self.notices: list[KioskNotice] = []
        self.camera: CameraNotice | None = None

    def _notices(self) -> Sequence[KioskNotice]:
        return self.notices

    def _answer(self, event_id: str, option: str | None, language: str | None) -> bool:
        self.answers.append((event_id, option, language))
        return event_id == "open"

    def hooks(self) -> DisplayHooks:
        return DisplayHooks(
            survey=lambda: self.survey,
            press=self.presses.append,
            answer=self._answer,
            languages=lambda: ["en", "nl"],
            notices=self._notices,
            camera=lambda: self.camera,
        )


@pytest.fixture
def kiosk() -> Kiosk:
    return Kiosk()


@pytest.fixture
def display(kiosk: Kiosk) -> Iterator[KioskDisplay]:
    display = KioskDisplay(kiosk.hooks(), port=0)
    display.start()
    yield display
    display.stop()


def request(
    display: KioskDisplay, method: str, path: str, body: Any = None, host: str | None = None
) -> tuple[int, dict[str, Any], bytes]:
    port = int(display.url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Host": host or f"127.0.0.1:{port}", "Content-Type": "application/json"}
    payload = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


def test_the_page_and_its_files_are_served_under_a_strict_policy(display: KioskDisplay) -> None:
    status, headers, body = request(display, "GET", "/")
    assert status == 200 and b"/static/kiosk.js" in body
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    for name in ("kiosk.js", "kiosk.css"):
        assert request(display, "GET", f"/static/{name}")[0] == 200
    assert request(display, "GET", "/static/../server.py")[0] == 404
    assert request(display, "GET", "/static/server.py")[0] == 404


def test_the_state_carries_the_survey_and_the_words_of_each_language(
    display: KioskDisplay, kiosk: Kiosk
) -> None:
    state = json.loads(request(display, "GET", "/api/state")[2])
    assert [(lang["tag"], lang["dir"]) for lang in state["languages"]] == [
        ("en", "ltr"),
        ("fa", "rtl"),
    ]
    assert state["words"]["fa"]["Thank you!"] == "سپاسگزاریم!"
    assert state["survey"]["negative"]["options"][0]["key"] == "queue"
    kiosk.survey = None  # no survey yet: the location's languages, the page's own question
    state = json.loads(request(display, "GET", "/api/state")[2])
    assert [lang["tag"] for lang in state["languages"]] == ["en", "nl"] and state["survey"] is None


def test_presses_and_answers_reach_the_kiosk(display: KioskDisplay, kiosk: Kiosk) -> None:
    assert request(display, "POST", "/api/press", {"button": "unhappy"})[0] == 202
    assert request(display, "POST", "/api/press", {"button": "meh"})[0] == 422
    assert (
        request(
            display,
            "POST",
            "/api/answer",
            {"event_id": "open", "option": "queue", "language": "fa"},
        )[0]
        == 202
    )
    assert request(display, "POST", "/api/answer", {"event_id": "closed", "option": None})[0] == 409
    assert request(display, "POST", "/api/answer", {"event_id": 5})[0] == 422
    assert kiosk.presses == [Button.UNHAPPY]
    assert kiosk.answers == [("open", "queue", "fa"), ("closed", None, None)]


def test_anything_but_the_kiosks_own_browser_is_refused(
    display: KioskDisplay, kiosk: Kiosk
) -> None:
    assert request(display, "GET", "/api/state", host="evil.example:80")[0] == 421
    assert (
        request(display, "POST", "/api/press", {"button": "happy"}, host="evil.example")[0] == 421
    )
    assert request(display, "POST", "/api/press", b"x" * 2000)[0] == 413
    assert request(display, "POST", "/api/press", b"[1, 2]")[0] == 400
    assert kiosk.presses == []


def test_a_prompt_reaches_the_page_as_an_event(display: KioskDisplay) -> None:
    port = int(display.url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/api/events", headers={"Host": f"127.0.0.1:{port}"})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
    assert response.readline() == b"retry: 1000\n"
    response.readline()
    threading.Timer(0.05, display.prompt, [Prompt("e1", Button.UNHAPPY, "negative", 8.0)]).start()
    line = response.readline()
    assert line.startswith(b"data: ")
    message = json.loads(line[len(b"data: ") :])
    assert message == {
        "type": "prompt",
        "event_id": "e1",
        "button": "unhappy",
        "question": "negative",
        "answer_s": 8.0,
    }
    connection.close()


CLEANING = KioskNotice(
    kind="requested",
    team="Cleaning T2",
    since=datetime(2026, 11, 23, 8, 42, tzinfo=UTC),
    time_zone="Europe/Helsinki",
)


def test_the_state_carries_the_notices_and_their_words(display: KioskDisplay, kiosk: Kiosk) -> None:
    assert json.loads(request(display, "GET", "/api/state")[2])["notices"] == []
    kiosk.notices = [CLEANING]
    state = json.loads(request(display, "GET", "/api/state")[2])
    assert state["notices"] == [
        {
            "kind": "requested",
            "team": "Cleaning T2",
            "since": "2026-11-23T08:42:00Z",
            "time_zone": "Europe/Helsinki",
        }
    ]
    assert state["words"]["fa"]["%(team)s requested at %(time)s"] == (
        "%(team)s ساعت %(time)s درخواست شد"
    )


def test_notices_that_cannot_be_read_leave_the_survey_served(
    kiosk: Kiosk, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> Sequence[KioskNotice]:
        raise OSError("the saved config went away")

    display = KioskDisplay(dataclasses.replace(kiosk.hooks(), notices=broken), port=0)
    display.start()
    try:
        status, _headers, body = request(display, "GET", "/api/state")
    finally:
        display.stop()
    state = json.loads(body)
    assert status == 200 and state["notices"] == [] and state["survey"] is not None
    assert "notices could not be read" in caplog.text


def test_the_state_says_whether_the_camera_is_on_and_who_runs_it(
    display: KioskDisplay, kiosk: Kiosk
) -> None:
    assert json.loads(request(display, "GET", "/api/state")[2])["camera"] is None
    kiosk.camera = CameraNotice("Finavia, privacy@finavia.fi")
    state = json.loads(request(display, "GET", "/api/state")[2])
    assert state["camera"] == {"operator": "Finavia, privacy@finavia.fi"}
    kiosk.camera = CameraNotice()
    assert json.loads(request(display, "GET", "/api/state")[2])["camera"] == {"operator": None}


def test_a_camera_state_that_cannot_be_read_shows_the_notice(
    kiosk: Kiosk, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> CameraNotice | None:
        raise RuntimeError("the camera link went away")

    display = KioskDisplay(dataclasses.replace(kiosk.hooks(), camera=broken), port=0)
    display.start()
    try:
        state = json.loads(request(display, "GET", "/api/state")[2])
    finally:
        display.stop()
    assert state["camera"] == {"operator": None}
    assert "the camera's state could not be read" in caplog.text
