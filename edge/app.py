"""Wiring: builds the kiosk's parts from its config, starts them, stops them in order."""

import logging
import threading
from typing import Any

from edge.camera_link import CameraLink
from edge.config import KioskConfig
from edge.outbox import Outbox
from edge.panel import IndicatorLed, SmileyPanel, mock_pin_factory
from edge.recorder import PressRecorder
from edge.remote_config import RemoteConfigKeeper
from edge.simulate import PressSimulator
from edge.uplink import Uplink

log = logging.getLogger(__name__)


class Kiosk:
    """panel -> recorder -> outbox -> uplink, plus the simulator when asked for."""

    def __init__(
        self,
        config: KioskConfig,
        *,
        pin_factory: Any = None,
        simulate: bool = False,
        outbox: Outbox | None = None,
    ) -> None:
        self.remote = RemoteConfigKeeper(config)
        config = self.config = self.remote.effective()
        if simulate and pin_factory is None:
            pin_factory = mock_pin_factory()
        self.outbox = outbox or Outbox(
            config.data_dir / "outbox.sqlite3", capacity=config.outbox_capacity
        )
        self.uplink = Uplink(
            config.mqtt,
            device_id=config.device_id,
            location_id=config.location_id,
            outbox=self.outbox,
            heartbeat_s=config.heartbeat_s,
        )
        indicator = config.camera.indicator_led if config.camera else None
        self.camera_light = (
            IndicatorLed(indicator, pin_factory=pin_factory) if indicator is not None else None
        )
        self.camera = CameraLink(
            config.camera, on_active=self.camera_light.show if self.camera_light else None
        )
        self.uplink.add_to_status(self.camera.status_fields)
        self.recorder = PressRecorder(
            device_id=config.device_id,
            location_id=config.location_id,
            response_interval_s=config.response_interval_s,
            outbox=self.outbox,
            on_recorded=self.uplink.wake,
            emotion_at=self.camera.emotion_at,
        )
        self.panel = SmileyPanel(config.panel, self.recorder.submit, pin_factory=pin_factory)
        self.simulator = (
            PressSimulator(config.simulation, self.panel.button_pins()) if simulate else None
        )
        self.uplink.on_config(self._on_remote_config)
        self.uplink.report_config(self.remote.version, None)
        self._stopped = threading.Event()

    def _on_remote_config(self, payload: bytes) -> None:
        verdict = self.remote.offer(payload)
        if verdict.config is not None:
            self.config = config = verdict.config
            self.recorder.relocate(
                location_id=config.location_id, response_interval_s=config.response_interval_s
            )
            self.uplink.retune(location_id=config.location_id, heartbeat_s=config.heartbeat_s)
            self.camera.apply(config.camera)
        if verdict.config is not None or verdict.error is not None:
            self.uplink.report_config(self.remote.version, verdict.error)

    def start(self) -> None:
        self.camera.start()
        self.recorder.start()
        self.uplink.start()
        if self.simulator:
            self.simulator.start()
        log.info(
            "kiosk %s at %s started (outbox holds %d events)",
            self.config.device_id,
            self.config.location_id,
            self.outbox.depth(),
        )

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.simulator:
            self.simulator.stop()
        self.camera.stop()
        if self.camera_light:
            self.camera_light.close()
        self.panel.close()
        self.recorder.stop()
        self.uplink.drain(timeout_s=self.config.mqtt.drain_on_stop_s)
        self.uplink.stop()
        log.info(
            "kiosk %s stopped; %d events wait in the outbox",
            self.config.device_id,
            self.outbox.depth(),
        )
        self.outbox.close()
