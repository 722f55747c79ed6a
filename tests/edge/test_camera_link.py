"""CameraLink: the camera on and off as the kiosk's config says, a reading per press, its
health for the status; a camera that cannot start, or that no one could see is on, leaves a
fault, never an exception."""

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.camera.config import CameraConfig
from edge.camera.sources import Frame
from edge.camera_link import CameraLink
from protocol.messages import DeviceState, DeviceStatus
from tests.edge.camera.test_monitor import face_folder
from tests.helpers import wait_until


def test_a_kiosk_without_a_camera_reports_nothing_and_reads_nothing() -> None:
    link = CameraLink(None)
    link.start()
    assert not link.installed
    assert link.status_fields() == {}
    assert link.emotion_at(time.monotonic()) is None


def test_an_installed_camera_left_off_says_off() -> None:
    link = CameraLink(CameraConfig(enabled=False))
    link.start()
    assert link.installed
    assert link.status_fields() == {"camera": "off"}


def test_a_camera_that_cannot_start_is_a_fault_until_turned_off(tmp_path: Path) -> None:
    broken = CameraConfig(
        enabled=True, emotion_manifest=tmp_path / "emotion26.json", indicator_led=26
    )
    link = CameraLink(broken)
    link.start()  # no exception: the buttons go on without the camera
    fields = link.status_fields()
    assert fields["camera"] == "fault"
    assert "no such emotion model manifest" in fields["camera_fault"]
    assert link.emotion_at(time.monotonic()) is None
    link.apply(broken.model_copy(update={"enabled": False}))
    assert link.status_fields() == {"camera": "off"}


def test_a_camera_turned_on_reads_faces_and_turned_off_lets_the_indicator_go(
    tmp_path: Path, face_frame: Frame, camera_config: Callable[..., CameraConfig]
) -> None:
    indicator: list[bool] = []
    folder = face_folder(tmp_path / "faces", face_frame)
    config = camera_config(source=str(folder), ambient=True)
    link = CameraLink(config.model_copy(update={"enabled": False}), on_active=indicator.append)
    assert "model_sha256" not in link.status_fields(), "off: no model loaded"
    link.apply(config)
    try:
        wait_until(lambda: link.status_fields().get("camera") == "ok", what="the camera ok")
        assert config.emotion_manifest is not None
        model = config.emotion_manifest.with_suffix(".onnx").read_bytes()
        status = DeviceStatus(  # as the uplink puts the fields in the kiosk's status
            device_id="k1",
            state=DeviceState.ONLINE,
            sent_at=datetime.now(UTC),
            **link.status_fields(),
        )
        assert status.model_sha256 == hashlib.sha256(model).hexdigest()
        wait_until(
            lambda: link.emotion_at(time.monotonic()) is not None, what="a reading at a press"
        )
        reading = link.emotion_at(time.monotonic())
        assert reading is not None and len(reading.emotions) == 26
        assert abs(reading.age_s) <= config.match_within_s
        wait_until(
            lambda: link.status_fields()["passersby_total"] >= 1, what="the face counted passing"
        )
    finally:
        link.apply(None)
    assert link.status_fields() == {}
    assert indicator and indicator[0] is True and indicator[-1] is False


def test_a_camera_no_one_could_see_is_on_refuses_to_start_whoever_turns_it_on(
    tmp_path: Path,
    face_frame: Frame,
    camera_config: Callable[..., CameraConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = face_folder(tmp_path / "faces", face_frame)
    unseen = camera_config(source=str(folder), indicator_led=None)
    display_up = False
    link = CameraLink(unseen.model_copy(update={"enabled": False}), display=lambda: display_up)

    link.apply(unseen)  # as a remote config would

    fields = link.status_fields()
    assert fields["camera"] == "fault" and not link.is_on
    assert fields["camera_fault"] == (
        "camera.enabled needs camera.indicator_led (a BCM pin) or a [display] so people can "
        "see the camera is on"
    )
    assert "camera not started: camera.enabled needs" in caplog.text
    assert link.emotion_at(time.monotonic()) is None

    display_up = True  # the page is served: it shows the camera notice
    link.apply(unseen)
    try:
        assert link.is_on
        wait_until(lambda: link.status_fields().get("camera") == "ok", what="the camera ok")
    finally:
        link.stop()
    assert not link.is_on


def test_an_indicator_led_is_enough_without_a_display(
    tmp_path: Path, face_frame: Frame, camera_config: Callable[..., CameraConfig]
) -> None:
    folder = face_folder(tmp_path / "faces", face_frame)
    link = CameraLink(camera_config(source=str(folder), operator="Finavia, privacy@finavia.fi"))
    link.start()
    try:
        assert link.is_on and link.operator == "Finavia, privacy@finavia.fi"
        wait_until(lambda: link.status_fields().get("camera") == "ok", what="the camera ok")
    finally:
        link.stop()
