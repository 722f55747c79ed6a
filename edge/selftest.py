"""`seed-kiosk selftest`: what a technician runs once a kiosk is mounted, before leaving.

Each check answers PASS, FAIL or SKIP with a line saying what was seen; any FAIL makes the
command exit non-zero. The broker checks use the kiosk's own credentials, under a client id
of their own, so they can run beside the kiosk service.
"""

import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from edge import __version__
from edge.camera.config import CameraConfig
from edge.camera_link import CameraLink
from edge.config import KioskConfig
from edge.panel import IndicatorLed, SmileyPanel
from edge.uplink import kiosk_mqtt_options
from protocol.errors import ProtocolError
from protocol.messages import BUTTONS, Button, DeviceState, DeviceStatus, decode_ack, encode
from protocol.mqtt import MqttOptions, probe_access, request_reply
from protocol.topics import Topics

CLOCK_TOLERANCE_S = 2.0


class Outcome(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str


Ask = Callable[[str], str]
"""Shows a prompt to the technician and returns the answer (`input` in a terminal)."""


@dataclass(frozen=True)
class SelftestPlan:
    interactive: bool = True
    button_timeout_s: float = 30.0
    broker_timeout_s: float = 10.0
    camera_timeout_s: float = 10.0


def run_selftest(
    config: KioskConfig, plan: SelftestPlan, *, ask: Ask = input, pin_factory: Any = None
) -> list[Check]:
    checks = [Check("config", Outcome.PASS, f"{config.device_id} at {config.location_id}")]
    checks += _panel_checks(config, plan, ask, pin_factory)
    checks.append(_camera_check(config, plan, pin_factory))
    checks += _broker_checks(config, plan)
    return checks


def _panel_checks(
    config: KioskConfig, plan: SelftestPlan, ask: Ask, pin_factory: Any
) -> list[Check]:
    from edge.panel import SmileyPanel  # noqa: PLC0415 (gpiozero only where a panel is)

    pressed: list[Button] = []
    try:
        panel = SmileyPanel(
            config.panel, lambda button, _at: pressed.append(button), pin_factory=pin_factory
        )
    except Exception as exc:
        detail = f"cannot open the GPIO pins ({exc}); is the kiosk service running?"
        return [Check("leds", Outcome.FAIL, detail), Check("buttons", Outcome.FAIL, detail)]
    try:
        return [_leds(panel, plan, ask), _buttons(panel, pressed, plan, ask)]
    finally:
        panel.close()


def _leds(panel: SmileyPanel, plan: SelftestPlan, ask: Ask) -> Check:
    if not panel.has_leds():
        return Check("leds", Outcome.SKIP, "the panel has no LEDs (panel.leds = false)")
    dark = []
    for button in BUTTONS:
        driven = panel.light(button, True)
        seen = (
            ask(f"Is the {button.value} LED lit? [y/n] ").strip().lower()
            if plan.interactive
            else "y"
        )
        panel.light(button, False)
        if not driven or not seen.startswith("y"):
            dark.append(button.value)
    if dark:
        return Check("leds", Outcome.FAIL, f"not lit: {', '.join(dark)}")
    how = "seen lit" if plan.interactive else "pins driven and read back (not looked at)"
    return Check("leds", Outcome.PASS, f"{len(BUTTONS)} LEDs {how}")


def _buttons(panel: SmileyPanel, pressed: list[Button], plan: SelftestPlan, ask: Ask) -> Check:
    if not plan.interactive:
        return Check("buttons", Outcome.SKIP, "needs a person (run without --no-interactive)")
    missed = []
    for button in BUTTONS:
        pressed.clear()
        ask(f"Press the {button.value} button within {plan.button_timeout_s:.0f} s (Enter) ")
        deadline = time.monotonic() + plan.button_timeout_s
        while button not in pressed and time.monotonic() < deadline:
            time.sleep(0.02)
        if button not in pressed:
            missed.append(button.value)
    if missed:
        return Check("buttons", Outcome.FAIL, f"no press seen on: {', '.join(missed)}")
    return Check("buttons", Outcome.PASS, "all four pressed")


def _camera_check(config: KioskConfig, plan: SelftestPlan, pin_factory: Any) -> Check:
    """Turn the camera on (even if its config keeps it off), its indicator LED lit while it
    reads as in service, and wait for frames."""
    if config.camera is None:
        return Check("camera", Outcome.SKIP, "no camera configured")
    pin = config.camera.indicator_led
    try:
        led = IndicatorLed(pin, pin_factory=pin_factory) if pin is not None else None
    except Exception as exc:
        detail = (
            f"cannot open the indicator LED on GPIO {pin} ({exc}); is the kiosk service running?"
        )
        return Check("camera", Outcome.FAIL, detail)
    light = _WatchedLight(led) if led is not None else None
    display = config.display is not None and config.display.enabled
    try:
        fields = _camera_fields(config.camera, plan, light, display=display)
    finally:
        if led is not None:
            led.close()
    if fields.get("camera") != "ok":
        reason = fields.get("camera_fault") or f"no frame within {plan.camera_timeout_s:g} s"
        return Check("camera", Outcome.FAIL, str(reason))
    seen = f"frames from {config.camera.source}, model loaded"
    if light is None:
        return Check("camera", Outcome.PASS, f"{seen}; no indicator LED configured")
    if not light.seen_lit:
        return Check(
            "camera", Outcome.FAIL, f"{seen}; but the indicator LED on GPIO {pin} stayed dark"
        )
    return Check("camera", Outcome.PASS, f"{seen}; indicator LED on GPIO {pin} lit while reading")


@dataclass
class _WatchedLight:
    """The camera's indicator LED, remembering whether its pin read back lit."""

    led: IndicatorLed
    seen_lit: bool = False

    def show(self, on: bool) -> None:
        self.led.show(on)
        self.seen_lit |= on and self.led.lit


def _camera_fields(
    camera: CameraConfig, plan: SelftestPlan, light: _WatchedLight | None, *, display: bool
) -> dict[str, Any]:
    """The camera's status fields once it is past starting, or at the timeout."""
    link = CameraLink(
        camera.model_copy(update={"enabled": True}),
        on_active=light.show if light is not None else None,
        display=lambda: display,
    )
    link.start()
    try:
        deadline = time.monotonic() + plan.camera_timeout_s
        fields = link.status_fields()
        while fields.get("camera") == "starting" and time.monotonic() < deadline:
            time.sleep(0.1)
            fields = link.status_fields()
        return fields
    finally:
        link.stop()


def _options(config: KioskConfig, suffix: str) -> MqttOptions:
    return kiosk_mqtt_options(config.mqtt, client_id=f"kiosk-{config.device_id}-{suffix}")


def _broker_checks(config: KioskConfig, plan: SelftestPlan) -> list[Check]:
    topics = Topics(config.mqtt.topic_prefix)
    stranger = f"selftest-{uuid.uuid4().hex[:8]}"
    probe = probe_access(
        _options(config, "selftest"),
        foreign_topic=topics.events(stranger),
        timeout_s=plan.broker_timeout_s,
    )
    if not probe.connected:
        broker = Check("broker", Outcome.FAIL, f"{config.mqtt.url}: {probe.reason}")
        skipped = [Check(name, Outcome.SKIP, "not connected") for name in ("acl", "clock")]
        return [broker, *skipped, _ntp_check()]
    broker = Check("broker", Outcome.PASS, f"connected to {config.mqtt.url} with own credentials")
    if probe.foreign_publish_refused:
        acl = Check("acl", Outcome.PASS, "refused on another device's topic, as it must be")
    elif probe.foreign_publish_refused is None:
        acl = Check("acl", Outcome.FAIL, "the broker did not answer a publish")
    else:
        acl = Check("acl", Outcome.FAIL, "ALLOWED to publish as another device: fix the ACL")
    return [broker, acl, _hub_clock_check(config, topics, plan), _ntp_check()]


def _hub_clock_check(config: KioskConfig, topics: Topics, plan: SelftestPlan) -> Check:
    status = DeviceStatus(
        device_id=config.device_id,
        state=DeviceState.ONLINE,
        sent_at=datetime.now(UTC),
        location_id=config.location_id,
        version=__version__,
        probe=True,
    )
    reply = request_reply(
        _options(config, "clock"),
        topic=topics.status(config.device_id),
        payload=encode(status),
        reply_topic=topics.ack(config.device_id),
        timeout_s=plan.broker_timeout_s,
    )
    if reply is None:
        return Check("clock", Outcome.FAIL, "the hub did not answer (is seed-hub running?)")
    try:
        hub_time = decode_ack(reply).hub_time
    except ProtocolError as exc:
        return Check("clock", Outcome.FAIL, f"unreadable answer from the hub: {exc}")
    if hub_time is None:
        return Check("clock", Outcome.FAIL, "the hub's answer carries no time")
    # off by the one-way delivery time at most, well inside the tolerance
    offset = (hub_time - datetime.now(UTC)).total_seconds()
    outcome = Outcome.PASS if abs(offset) <= CLOCK_TOLERANCE_S else Outcome.FAIL
    detail = f"{offset:+.2f} s from the hub (tolerance {CLOCK_TOLERANCE_S:g} s)"
    return Check("clock", outcome, detail)


def _ntp_check() -> Check:
    timedatectl = shutil.which("timedatectl")
    if timedatectl is None:
        return Check("ntp", Outcome.SKIP, "timedatectl not found")
    try:
        answer = subprocess.run(
            [timedatectl, "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("ntp", Outcome.SKIP, f"timedatectl failed: {exc}")
    if answer == "yes":
        return Check("ntp", Outcome.PASS, "system clock synchronised by NTP")
    if answer == "no":
        return Check("ntp", Outcome.FAIL, "system clock not synchronised (timedatectl)")
    return Check("ntp", Outcome.SKIP, "no answer from systemd-timedated")


def format_checks(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{c.name:<{width}}  {c.outcome.value:<4}  {c.detail}" for c in checks]
    failed = sum(c.outcome is Outcome.FAIL for c in checks)
    lines.append(f"{'':-<{width + 30}}\n{'FAILED' if failed else 'ALL PASSED'}: {failed} failing")
    return "\n".join(lines)
