"""The kiosk as wired: mock pins, a real outbox, an in-memory MQTT link; surveys from the
hub's remote config, follow-ups after presses, buttons that outlive a broken follow-up, and
a camera that is on only where people can see so."""

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge.app import Kiosk
from edge.camera.config import CameraConfig
from edge.config import DisplayConfig, KioskConfig
from edge.followups import FollowUps, Window
from edge.outbox import Outbox
from edge.panel import mock_pin_factory
from protocol.messages import (
    Button,
    FollowUp,
    KioskNotice,
    PressEvent,
    RemoteConfig,
    decode_kiosk_message,
    encode,
)
from protocol.surveys import Survey
from protocol.topics import Topics
from tests.edge.camera.test_monitor import face_folder
from tests.fake_mqtt import FakeMqttFactory
from tests.protocol.test_surveys import survey as survey_document

SURVEY = Survey.model_validate(survey_document())
TOPICS = Topics("seed")
NOTICE = KioskNotice(
    kind="requested",
    team="Cleaning T2",
    since=datetime(2026, 11, 23, 10, 42, tzinfo=UTC),
    time_zone="Europe/Helsinki",
)


@pytest.fixture
def config(tmp_path: Path) -> KioskConfig:
    return KioskConfig.model_validate(
        {
            "device_id": "k1",
            "location_id": "gate-a",
            "data_dir": tmp_path / "k1",
            "response_interval_s": 0,
            "mqtt": {"drain_on_stop_s": 0},
        }
    )


@pytest.fixture
def run_kiosk() -> Iterator[Callable[[KioskConfig], tuple[Kiosk, FakeMqttFactory]]]:
    kiosks: list[Kiosk] = []

    def run(config: KioskConfig) -> tuple[Kiosk, FakeMqttFactory]:
        links = FakeMqttFactory()
        kiosk = Kiosk(config, pin_factory=mock_pin_factory(), link=links)
        kiosks.append(kiosk)
        kiosk.start()
        return kiosk, links

    yield run
    for kiosk in kiosks:
        kiosk.stop()


def press(kiosk: Kiosk, button: Button) -> None:
    pin = kiosk.panel.button_pins()[button]
    pin.drive_low()
    time.sleep(0.06)  # longer than the debounce
    pin.drive_high()


def until(condition: Callable[[], Any], timeout_s: float = 5) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert value, "timed out"
    return value


def messages(kiosk: Kiosk | Outbox) -> list[PressEvent | FollowUp]:
    outbox = kiosk.outbox if isinstance(kiosk, Kiosk) else kiosk
    rows = outbox.pending(after_position=0, limit=1000)
    return [decode_kiosk_message(row.payload) for row in rows]


def send_config(links: FakeMqttFactory, version: int, **settings: Any) -> None:
    config = RemoteConfig.model_validate(
        {"device_id": "k1", "version": version, "issued_at": datetime.now(UTC), **settings}
    )
    assert links.link.fire_message(TOPICS.config("k1"), encode(config), retained=True)


def test_a_kiosk_without_a_survey_records_buttons_only(
    config: KioskConfig, run_kiosk: Callable[[KioskConfig], tuple[Kiosk, FakeMqttFactory]]
) -> None:
    kiosk, _links = run_kiosk(config)
    press(kiosk, Button.VERY_UNHAPPY)
    (event,) = until(lambda: messages(kiosk))
    assert isinstance(event, PressEvent)
    assert (event.survey_id, event.survey_version) == (None, None)
    assert kiosk.followups.current() is None


def test_the_hubs_survey_is_asked_answered_and_kept_across_a_restart(
    config: KioskConfig, run_kiosk: Callable[[KioskConfig], tuple[Kiosk, FakeMqttFactory]]
) -> None:
    kiosk, links = run_kiosk(config)
    send_config(links, 1, survey=SURVEY)
    until(lambda: kiosk.config.survey == SURVEY)
    opened: list[Window] = []
    kiosk.followups.add_listener(opened.append)

    press(kiosk, Button.UNHAPPY)
    window = until(kiosk.followups.current)
    assert opened == [window] and window.question == "negative"
    followup = kiosk.followups.answer(window.event_id, "staff", "en")
    until(lambda: len(messages(kiosk)) == 2)
    event, recorded = messages(kiosk)
    assert isinstance(event, PressEvent) and event.survey_version == SURVEY.version
    assert recorded == followup and followup.event_id == event.event_id
    kiosk.stop()

    offline, _links = run_kiosk(config)  # the hub is away: the saved survey stands
    assert offline.config.survey == SURVEY
    press(offline, Button.VERY_UNHAPPY)
    until(offline.followups.current)
    offline.stop()  # closes the open window unanswered
    saved = Outbox(config.data_dir / "outbox.sqlite3")
    *_, last_press, last_followup = messages(saved)
    saved.close()
    assert isinstance(last_press, PressEvent) and last_press.survey_version == SURVEY.version
    assert isinstance(last_followup, FollowUp)
    assert (last_followup.event_id, last_followup.option) == (last_press.event_id, None)


def test_the_buttons_keep_recording_when_the_follow_ups_fail(
    config: KioskConfig,
    run_kiosk: Callable[[KioskConfig], tuple[Kiosk, FakeMqttFactory]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("the follow-up seam is broken")

    survey_config = config.model_copy(update={"survey": SURVEY})
    kiosk, _links = run_kiosk(survey_config)
    monkeypatch.setattr(kiosk.outbox, "append_followup", broken)  # a follow-up never written
    kiosk.followups.add_listener(broken)  # a page that crashes on every window
    for button in (Button.UNHAPPY, Button.HAPPY, Button.VERY_UNHAPPY):
        press(kiosk, button)
        time.sleep(0.05)
    presses = until(lambda: len(messages(kiosk)) == 3 and messages(kiosk))
    assert [m.button for m in presses if isinstance(m, PressEvent)] == [
        Button.UNHAPPY,
        Button.HAPPY,
        Button.VERY_UNHAPPY,
    ]
    assert all(isinstance(m, PressEvent) for m in presses)


def test_the_presses_go_on_when_the_follow_ups_own_code_raises(
    config: KioskConfig,
    run_kiosk: Callable[[KioskConfig], tuple[Kiosk, FakeMqttFactory]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = threading.Event()

    def raising(_self: FollowUps, _event: PressEvent) -> None:
        calls.set()
        raise RuntimeError("a bug in the follow-ups")

    monkeypatch.setattr(FollowUps, "pressed", raising)  # before the kiosk wires it
    kiosk, _links = run_kiosk(config.model_copy(update={"survey": SURVEY}))
    for button in (Button.UNHAPPY, Button.VERY_UNHAPPY):
        press(kiosk, button)
    until(lambda: len(messages(kiosk)) == 2)
    assert calls.is_set()
    assert all(isinstance(m, PressEvent) for m in messages(kiosk))


def test_the_hubs_notice_reaches_the_kiosks_page_and_is_cleared(
    config: KioskConfig, run_kiosk: Callable[[KioskConfig], tuple[Kiosk, FakeMqttFactory]]
) -> None:
    shown = config.model_copy(update={"display": DisplayConfig(port=0)})
    kiosk, links = run_kiosk(shown)
    assert kiosk.page is not None

    def notices() -> list[dict[str, Any]]:
        return list(page_state(kiosk)["notices"])

    send_config(links, 1, notices=[NOTICE])
    [notice] = until(notices)
    assert (notice["kind"], notice["team"]) == ("requested", "Cleaning T2")
    send_config(links, 2, notices=[])
    until(lambda: notices() == [])
    press(kiosk, Button.HAPPY)  # and the buttons never noticed
    until(lambda: messages(kiosk))


def page_state(kiosk: Kiosk) -> dict[str, Any]:
    assert kiosk.page is not None
    with urllib.request.urlopen(f"{kiosk.page.display.url}/api/state", timeout=5) as answer:
        state: dict[str, Any] = json.load(answer)
    return state


def test_a_kiosk_with_a_display_and_no_led_reads_at_a_press_and_says_the_camera_is_on(
    config: KioskConfig,
    run_kiosk: Callable[[KioskConfig], tuple[Kiosk, FakeMqttFactory]],
    camera_config: Callable[..., CameraConfig],
    face_frame: Any,
) -> None:
    camera = camera_config(
        source=str(face_folder(config.data_dir.parent / "faces", face_frame)),
        indicator_led=None,
        operator="Finavia, privacy@finavia.fi",
    )
    shown = config.model_copy(update={"display": DisplayConfig(port=0), "camera": camera})
    kiosk, links = run_kiosk(KioskConfig.model_validate(shown.model_dump()))
    assert kiosk.camera_light is None
    assert page_state(kiosk)["camera"] == {"operator": "Finavia, privacy@finavia.fi"}
    until(lambda: kiosk.camera.status_fields()["camera"] == "ok")
    time.sleep(0.6)  # frames before the press, within half its window

    press(kiosk, Button.HAPPY)

    (event,) = until(lambda: messages(kiosk))
    assert isinstance(event, PressEvent) and event.emotion is not None
    send_config(links, 1, camera_enabled=False)
    until(lambda: page_state(kiosk)["camera"] is None)
    assert not kiosk.camera.is_on


def test_a_kiosk_whose_page_cannot_be_served_keeps_its_led_less_camera_off(
    config: KioskConfig,
    run_kiosk: Callable[[KioskConfig], tuple[Kiosk, FakeMqttFactory]],
    camera_config: Callable[..., CameraConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        page = DisplayConfig(port=taken.getsockname()[1])
        unseen = config.model_copy(
            update={"display": page, "camera": camera_config(indicator_led=None)}
        )
        kiosk, _links = run_kiosk(unseen)

        assert kiosk.page is not None and not kiosk.page.serving
        assert "kiosk page not served" in caplog.text
        fields = kiosk.camera.status_fields()
        assert fields["camera"] == "fault" and "camera.indicator_led" in fields["camera_fault"]
        press(kiosk, Button.UNHAPPY)  # the buttons work on
        (event,) = until(lambda: messages(kiosk))
        assert isinstance(event, PressEvent) and event.emotion is None
