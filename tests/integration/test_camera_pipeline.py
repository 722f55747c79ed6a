"""A press with the camera on: the face's scores travel with the event, the image never does.

Real parts throughout: MediaPipe's BlazeFace, ONNX Runtime (on a small model that keeps the
manifest's contract), Mosquitto, the hub and its database. The frames come from a folder
holding one FER2013 face on a grey background.
"""

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from edge.app import Kiosk
from edge.camera.config import CameraConfig
from edge.camera.sources import Frame
from edge.config import KioskConfig
from edge.panel import mock_pin_factory
from hub.app import Hub
from hub.config import CameraSettings, FleetSettings
from hub.ingest import store
from hub.models import CameraAuditEntry, Device, Observation
from hub.reporting.reports import location_scores
from lab.mosquitto import MosquittoProcess
from protocol.messages import Button
from protocol.mqtt import Message
from tests.helpers import connect_client, wait_until
from tests.hub.camera.factories import approve

pytestmark = pytest.mark.mosquitto

NUMBER_DUMP = re.compile(r"(?:[-+]?\d*\.?\d+(?:e[-+]?\d+)?[\s,;]+){12,}")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".npy", ".npz", ".webp"}


@pytest.fixture
def faces_folder(tmp_path: Path, face_frame: Frame) -> Path:
    folder = tmp_path / "faces"
    folder.mkdir()
    cv2.imwrite(str(folder / "face.png"), face_frame)
    return folder


@pytest.fixture
def wire(mosquitto: MosquittoProcess) -> Iterator[list[Message]]:
    """Every message on the broker, as an eavesdropper would see it."""
    seen: list[Message] = []
    client = connect_client(
        mosquitto.address, "eavesdropper", subscriptions=("#",), on_message=seen.append
    )
    yield seen
    client.stop()


def start_kiosk(tmp_path: Path, broker: str, camera: CameraConfig) -> Kiosk:
    config = KioskConfig.model_validate(
        {
            "device_id": "k1",
            "location_id": "gate-1",
            "data_dir": tmp_path / "kiosk",
            "mqtt": {"url": broker, "max_send_per_s": 1000},
            "camera": camera.model_dump(),
        }
    )
    kiosk = Kiosk(config, pin_factory=mock_pin_factory())
    kiosk.start()
    return kiosk


def approve_gate(hub: Hub) -> None:
    """The deployer's approval for gate-1: without it the hub turns the camera off."""
    with hub.sessions.begin() as session:
        store.add_location(session, location_id="gate-1", name="Gate 1", time_zone="UTC")
        approve(session, "gate-1")


def press(kiosk: Kiosk, button: Button) -> None:
    pin = kiosk.panel.button_pins()[button]
    pin.drive_low()
    pin.drive_high()


def strings_in(document: Any) -> list[str]:
    if isinstance(document, str):
        return [document]
    if isinstance(document, dict):
        return [s for k, v in document.items() for s in (k, *strings_in(v))]
    if isinstance(document, list):
        return [s for item in document for s in strings_in(item)]
    return []


def test_a_press_carries_the_faces_scores_and_nothing_of_the_image(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    wire: list[Message],
    faces_folder: Path,
    camera_config: Callable[..., CameraConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hub = start_hub(mosquitto.url)
    approve_gate(hub)
    kiosk = start_kiosk(
        tmp_path, mosquitto.url, camera_config(source=str(faces_folder), ambient=True)
    )
    try:
        wait_until(
            lambda: kiosk.camera.emotion_at(time.monotonic()) is not None, 20, "a camera reading"
        )
        press(kiosk, Button.VERY_HAPPY)
        wait_until(lambda: _observations(hub) == 1, 20, "the press and its reading stored")
        wait_until(lambda: kiosk.outbox.depth() == 0, 10, "the ack")
    finally:
        kiosk.stop()

    (event,) = [json.loads(m.payload) for m in wire if m.topic.endswith("/events")]
    assert len(event["emotion"]["emotions"]) == 26 and len(event["emotion"]["vad"]) == 3
    for message in wire:
        assert len(message.payload) < 2048, f"{message.topic}: {len(message.payload)} bytes"
        document = json.loads(message.payload)
        assert all(len(text) <= 64 for text in strings_in(document)), message.topic
    for record in caplog.records:
        text = record.getMessage()
        assert not NUMBER_DUMP.search(text) and "[[" not in text, text
        assert not any(isinstance(a, np.ndarray) for a in (record.args or ())), text
    written = [p for p in tmp_path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    assert written == [faces_folder / "face.png"], "no image but the test's own input"

    with hub.sessions() as session:
        every_face = CameraSettings(min_face_score=0)
        scores = location_scores(session, camera=every_face)
        (score,) = [s for s in scores if s.location == "gate-1"]
        report = score.as_dict()
    assert score.observed is not None and score.observed.readings == 1
    assert 0 <= score.observed.observed_index <= 100
    assert len(score.observed.means) == 3 + 26
    assert report["observed"] is None, "one reading is too few to show"
    assert report["observed_suppressed"] is True


def test_a_camera_that_fails_never_stops_the_buttons(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    camera_config: Callable[..., CameraConfig],
) -> None:
    hub = start_hub(mosquitto.url)
    unplugged = camera_config(source=str(tmp_path / "no-such-camera"))
    kiosk = start_kiosk(tmp_path, mosquitto.url, unplugged)
    try:
        wait_until(lambda: kiosk.camera.status_fields()["camera"] == "fault", 10, "the fault")
        press(kiosk, Button.UNHAPPY)
        wait_until(lambda: kiosk.outbox.depth() == 0 and _stored(hub) == 1, 20, "the press")
        kiosk.uplink.report_config(None, None)  # a status now, rather than at the heartbeat
        wait_until(lambda: _device(hub).camera == "fault", 10, "the hub to hear of the fault")
        assert "no-such-camera" in (_device(hub).camera_fault or "")
    finally:
        kiosk.stop()


def test_a_camera_a_kiosk_turned_on_itself_without_approval_is_turned_off_by_the_hub(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    faces_folder: Path,
    camera_config: Callable[..., CameraConfig],
) -> None:
    hub = start_hub(mosquitto.url, fleet=FleetSettings(config_publish_s=0.2))
    kiosk = start_kiosk(tmp_path, mosquitto.url, camera_config(source=str(faces_folder)))
    try:
        wait_until(lambda: _audit(hub) != [], 20, "the hub to hear the camera is on")
        wait_until(lambda: kiosk.camera.status_fields()["camera"] == "off", 20, "the kiosk to obey")
        wait_until(lambda: _device(hub).camera == "off", 20, "the hub to hear it is off")
    finally:
        kiosk.stop()
    (entry,) = _audit(hub)
    assert (entry.action, entry.actor, entry.device_id) == ("off", "hub", "k1")
    assert "no camera approval covers gate-1" in entry.reason


def _audit(hub: Hub) -> list[CameraAuditEntry]:
    with hub.sessions() as session:
        return list(session.scalars(select(CameraAuditEntry)))


def _reading_now(kiosk: Kiosk) -> bool:
    return kiosk.camera.emotion_at(time.monotonic()) is not None


def _observations(hub: Hub) -> int:
    with hub.sessions() as session:
        return session.query(Observation).count()


def _stored(hub: Hub) -> int:
    with hub.sessions() as session:
        return store.stored_event_count(session)


def _device(hub: Hub) -> Device:
    with hub.sessions() as session:
        device = session.get(Device, "k1")
        assert device is not None
        return device


def test_a_model_that_breaks_its_manifest_is_refused_and_the_buttons_work_on(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    faces_folder: Path,
    camera_config: Callable[..., CameraConfig],
    tiny_manifest: Path,
) -> None:
    tampered = tmp_path / "models" / tiny_manifest.name
    tampered.parent.mkdir()
    manifest = json.loads(tiny_manifest.read_text())
    manifest["sha256"] = "0" * 64
    manifest["file"] = str(tiny_manifest.parent / manifest["file"])
    tampered.write_text(json.dumps(manifest))
    hub = start_hub(mosquitto.url)
    camera = camera_config(source=str(faces_folder), emotion_manifest=tampered)
    kiosk = start_kiosk(tmp_path, mosquitto.url, camera)
    try:
        fields = kiosk.camera.status_fields()
        assert fields["camera"] == "fault" and "sha256" in fields["camera_fault"]
        press(kiosk, Button.HAPPY)
        wait_until(lambda: _stored(hub) == 1, 20, "the press, without a reading")
    finally:
        kiosk.stop()
    assert _observations(hub) == 0


def test_the_indicator_led_is_lit_while_the_camera_is_on(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    faces_folder: Path,
    camera_config: Callable[..., CameraConfig],
) -> None:
    camera = camera_config(source=str(faces_folder), indicator_led=26)
    kiosk = start_kiosk(tmp_path, mosquitto.url, camera)
    light = kiosk.camera_light
    assert light is not None
    try:
        wait_until(lambda: light.lit, 10, "the light to come on")
        kiosk.camera.apply(camera.model_copy(update={"enabled": False}))
        assert not light.lit
    finally:
        kiosk.stop()
