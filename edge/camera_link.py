"""The kiosk's side of the camera: on and off as its config says, a reading for each press,
its health for the status. A camera or model that fails never stops the buttons.

A camera that people cannot see is on (no indicator LED, no display to show a notice)
refuses to start, whoever turns it on.

The camera libraries are imported only when a camera is turned on (the `camera` extra).
"""

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edge.camera.config import CAMERA_UNSEEN, CameraConfig
from protocol.errors import SeedError
from protocol.messages import ObservedEmotion

if TYPE_CHECKING:
    from edge.camera.monitor import CameraMonitor

log = logging.getLogger(__name__)


class CameraLink:
    """`on_active` lights the indicator LED (config.indicator_led) while frames are read;
    `display` says whether a display is up to show the camera notice."""

    def __init__(
        self,
        config: CameraConfig | None,
        *,
        on_active: Callable[[bool], None] | None = None,
        display: Callable[[], bool] = lambda: False,
    ) -> None:
        self._config = config
        self._on_active = on_active
        self._display = display
        self._monitor: CameraMonitor | None = None
        self._fault: str | None = None  # a camera that could not be built
        self._lock = threading.Lock()

    @property
    def installed(self) -> bool:
        return self._config is not None

    @property
    def is_on(self) -> bool:
        """Turned on and not refused: it may be reading frames (a fault is retried)."""
        return self._monitor is not None

    @property
    def operator(self) -> str | None:
        """Who runs the camera, as its config says."""
        return self._config.operator if self._config is not None else None

    def apply(self, config: CameraConfig | None) -> None:
        """Turn the camera on or off to match `config` (a kiosk's remote config may)."""
        self._config = config
        if config is not None and config.enabled:
            self.start()
        else:
            self.stop()

    def start(self) -> None:
        with self._lock:
            if self._config is None or not self._config.enabled or self._monitor is not None:
                return
            if self._config.indicator_led is None and not self._display():
                self._fault = CAMERA_UNSEEN
                log.error("camera not started: %s; the buttons work without it", CAMERA_UNSEEN)
                return
            try:
                self._monitor = _build(self._config, self._on_active)
            except (SeedError, ImportError) as exc:
                self._fault = str(exc)
                log.error("camera not started: %s; the buttons work without it", exc)
                return
            self._fault = None
            self._monitor.start()
        log.info("camera on (%s)", self._config.source)

    def stop(self) -> None:
        with self._lock:
            monitor, self._monitor = self._monitor, None
            self._fault = None
        if monitor is not None:
            monitor.close()
            log.info("camera off")

    def emotion_at(self, monotonic_s: float) -> ObservedEmotion | None:
        monitor = self._monitor
        reading = monitor.reading_at(monotonic_s) if monitor is not None else None
        if reading is None:
            return None
        return ObservedEmotion(
            emotions=[round(p, 4) for p in reading.emotions],
            vad=[round(v, 4) for v in reading.vad],
            expressions=None
            if reading.expressions is None
            else [round(p, 4) for p in reading.expressions],
            face_score=round(reading.face_score, 3),
            age_s=round(monotonic_s - reading.at, 3),
            faces=max(1, reading.faces),
        )

    def status_fields(self) -> dict[str, Any]:
        """`camera`, `camera_fault`, `passersby_total` and, while the camera is on, the
        `model_sha256` of its emotion model, for the kiosk's status."""
        if self._config is None:
            return {}
        monitor = self._monitor
        if self._fault is not None:
            return {"camera": "fault", "camera_fault": self._fault[:300]}
        if monitor is None:
            return {"camera": "off"}
        health = monitor.health()
        return {
            "camera": health.state,
            "camera_fault": health.reason[:300] or None,
            "passersby_total": monitor.passersby_total(),
            "model_sha256": monitor.model_sha256,
        }


def _build(config: CameraConfig, on_active: Callable[[bool], None] | None) -> "CameraMonitor":
    from edge.camera.build import build_monitor  # noqa: PLC0415 (the optional camera extra)

    return build_monitor(config, on_active=on_active)
