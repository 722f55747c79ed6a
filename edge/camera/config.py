"""The camera's settings; the kiosk config embeds them. The camera is off unless enabled."""

import re
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from protocol.text import PrintableText

USB_SOURCE = re.compile(r"usb:(\d+)")
PICAMERA_SOURCE = re.compile(r"picamera(?::(\d+))?")
OPERATOR_MAX_CHARS = 120
CAMERA_UNSEEN = (
    "camera.enabled needs camera.indicator_led (a BCM pin) or a [display] so people can see "
    "the camera is on"
)


class CameraConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        default=False, description="turn the camera on; off, the kiosk records presses only"
    )
    source: str = Field(
        default="usb:0",
        description=(
            "where frames come from: 'usb:N' (USB camera number N, usually 0), 'picamera' "
            "(the Pi's ribbon camera; 'picamera:N' for the Nth), or a path to an image, "
            "a folder of images or a video file (testing and demos)"
        ),
    )
    fps: float = Field(default=5, gt=0, le=30, description="frames read per second")
    width: int = Field(default=640, ge=160, le=4096, description="frame width to ask the camera")
    height: int = Field(default=480, ge=120, le=4096, description="frame height to ask the camera")
    detector_model: Path | None = Field(
        default=None,
        description=(
            "the BlazeFace file face_detection_short_range.tflite; empty: look in models/, "
            "then $SEED_MODELS_DIR; not found: OpenCV's Haar cascade, less accurate"
        ),
    )
    emotion_manifest: Path | None = Field(
        default=None,
        description=(
            "the emotion model's manifest; empty: models/emotion26.json, then $SEED_MODELS_DIR"
        ),
    )
    indicator_led: int | None = Field(
        default=None,
        ge=0,
        le=27,
        description=(
            "BCM pin of an LED lit while the camera is on; a camera needs it or a [display] "
            "(which shows a notice), so that people can see the camera is on"
        ),
    )
    operator: PrintableText | None = Field(
        default=None,
        min_length=1,
        max_length=OPERATOR_MAX_CHARS,
        description="who runs the camera (name, contact), shown on the display's camera notice",
    )
    ambient: bool = Field(
        default=False, description="also count the distinct faces passing by (footfall per minute)"
    )
    min_face_px: int = Field(
        default=40, ge=16, le=1000, description="ignore faces smaller than this (pixels)"
    )
    min_face_score: float = Field(
        default=0.5, gt=0, lt=1, description="the face detector's confidence threshold"
    )
    history_s: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="a press's reading is averaged over the frames in this window around it",
    )
    match_within_s: float = Field(
        default=2.0,
        gt=0,
        le=30,
        description=(
            "a press gets no reading if no frame is this close; raw frames are kept in RAM "
            "for history_s + match_within_s at most"
        ),
    )
    retry_min_s: float = Field(
        default=1.0, gt=0, description="first wait before reopening a failed camera"
    )
    retry_max_s: float = Field(
        default=30.0, gt=0, description="longest wait between attempts to reopen it"
    )

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        if source.startswith("usb") and not USB_SOURCE.fullmatch(source):
            raise ValueError(f"camera source {source!r}: write usb:N, e.g. usb:0")
        if source.startswith("picamera") and not PICAMERA_SOURCE.fullmatch(source):
            raise ValueError(f"camera source {source!r}: write picamera or picamera:N")
        if not source:
            raise ValueError("camera source is empty")
        return source

    @model_validator(mode="after")
    def _backoff_grows(self) -> Self:
        if self.retry_max_s < self.retry_min_s:
            raise ValueError("retry_max_s must be at least retry_min_s")
        return self
