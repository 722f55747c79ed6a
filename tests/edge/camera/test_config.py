"""The camera config: off by default, strict, and every bound says what is wrong."""

import pytest
from pydantic import ValidationError

from edge.camera.config import CameraConfig


def test_the_camera_is_off_unless_turned_on() -> None:
    config = CameraConfig()

    assert config.enabled is False
    assert (config.fps, config.history_s, config.match_within_s) == (5, 1.0, 2.0)
    assert config.ambient is False


@pytest.mark.parametrize("source", ["usb:0", "usb:12", "picamera", "picamera:1", "demo/faces"])
def test_sources_that_are_understood(source: str) -> None:
    assert CameraConfig(source=source).source == source


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"source": "usb0"}, "write usb:N"),
        ({"source": "picamera2"}, "write picamera or picamera:N"),
        ({"fps": 0}, "greater than 0"),
        ({"fps": 60}, "less than or equal to 30"),
        ({"retry_min_s": 5, "retry_max_s": 1}, "retry_max_s must be at least retry_min_s"),
        ({"fsp": 5}, "Extra inputs are not permitted"),
    ],
)
def test_mistakes_are_refused(settings: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        CameraConfig.model_validate(settings)


def test_every_field_is_described_for_a_technician() -> None:
    undocumented = [n for n, f in CameraConfig.model_fields.items() if not f.description]
    assert undocumented == []
