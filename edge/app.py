"""Wiring: builds the kiosk's parts from its config, starts them, stops them in order."""

import logging
import threading
from typing import Any

from edge.camera_link import CameraLink
from edge.config import KioskConfig
from edge.display.server import CameraNotice
from edge.display.wiring import DisplayLink
from edge.followups import FollowUps
from edge.outbox import Outbox
from edge.panel import IndicatorLed, SmileyPanel, mock_pin_factory
from edge.recorder import PressRecorder
from edge.remote_config import RemoteConfigKeeper
from edge.simulate import PressSimulator, SimulatedTraveller
from edge.uplink import Uplink
from protocol.mqtt import MqttConnection, MqttLinkFactory

log = logging.getLogger(__name__)


class Kiosk:
    """panel -> recorder -> outbox -> uplink, the follow-ups after presses (`followups`:
    the seam the display page and the simulator answer through), plus the simulator when
    asked for."""

    def __init__(
        self,
        config: KioskConfig,
        *,
        pin_factory: Any = None,
        simulate: bool = False,
        outbox: Outbox | None = None,
        link: MqttLinkFactory = MqttConnection,
    ) -> None:
        """`link` makes the broker connection (tests pass an in-memory one)."""
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
            link=link,
        )
        indicator = config.camera.indicator_led if config.camera else None
        self.camera_light = (
            IndicatorLed(indicator, pin_factory=pin_factory) if indicator is not None else None
        )
        self.camera = CameraLink(
            config.camera,
            on_active=self.camera_light.show if self.camera_light else None,
            display=self._page_served,
        )
        self.uplink.add_to_status(self.camera.status_fields)
        self.recorder = PressRecorder(
            device_id=config.device_id,
            location_id=config.location_id,
            response_interval_s=config.response_interval_s,
            outbox=self.outbox,
            on_recorded=self.uplink.wake,
            emotion_at=self.camera.emotion_at,
            survey=config.survey,
        )
        self.followups = FollowUps(self.outbox, survey=config.survey, on_recorded=self.uplink.wake)
        self.recorder.add_listener(self.followups.pressed)
        self.page = (
            DisplayLink(
                config.display,
                recorder=self.recorder,
                followups=self.followups,
                notices=lambda: self.remote.notices,
                camera=self._camera_notice,
            )
            if config.display is not None and config.display.enabled
            else None
        )
        self.panel = SmileyPanel(config.panel, self.recorder.submit, pin_factory=pin_factory)
        self.simulator = (
            PressSimulator(
                config.simulation,
                self.panel.button_pins(),
                response_interval_s=config.response_interval_s,
            )
            if simulate
            else None
        )
        self.traveller = SimulatedTraveller(config.simulation, self.followups) if simulate else None
        self.uplink.on_config(self._on_remote_config)
        self.uplink.report_config(self.remote.version, None)
        self._stopped = threading.Event()

    def _page_served(self) -> bool:
        return self.page is not None and self.page.serving

    def _camera_notice(self) -> CameraNotice | None:
        return CameraNotice(self.camera.operator) if self.camera.is_on else None

    def _on_remote_config(self, payload: bytes) -> None:
        verdict = self.remote.offer(payload)
        if verdict.config is not None:
            self.config = config = verdict.config
            self.recorder.relocate(
                location_id=config.location_id, response_interval_s=config.response_interval_s
            )
            self.uplink.retune(location_id=config.location_id, heartbeat_s=config.heartbeat_s)
            self.camera.apply(config.camera)
            self.recorder.ask(config.survey)
            self.followups.ask(config.survey)
            if self.page:
                self.page.survey_changed()  # the page re-reads it all, the camera's state too
        if verdict.config is not None or verdict.error is not None:
            self.uplink.report_config(self.remote.version, verdict.error)

    def start(self) -> None:
        self.followups.start()
        self.recorder.start()
        if self.page:
            self.page.start()
        self.camera.start()  # after the page: with no indicator LED, its notice is needed
        if self.page:
            self.page.camera_changed()
        self.uplink.start()
        if self.simulator:
            self.simulator.start()
        if self.traveller:
            self.traveller.start()
        survey = self.config.survey
        log.info(
            "kiosk %s at %s started (outbox holds %d events; survey %s)",
            self.config.device_id,
            self.config.location_id,
            self.outbox.depth(),
            f"{survey.survey_id} v{survey.version}" if survey else "none: buttons only",
        )

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.simulator:
            self.simulator.stop()
        if self.traveller:
            self.traveller.stop()
        self.camera.stop()
        if self.camera_light:
            self.camera_light.close()
        self.panel.close()
        if self.page:
            self.page.stop()
        self.recorder.stop()
        self.followups.stop()
        self.uplink.drain(timeout_s=self.config.mqtt.drain_on_stop_s)
        self.uplink.stop()
        log.info(
            "kiosk %s stopped; %d events wait in the outbox",
            self.config.device_id,
            self.outbox.depth(),
        )
        self.outbox.close()
