"""`seed-kiosk selftest` on mock pins: what it drives, asks and reports."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.camera.config import CameraConfig
from edge.camera.sources import Frame
from edge.cli import main
from edge.config import KioskConfig, PanelConfig
from edge.panel import IndicatorLed, mock_pin_factory
from edge.selftest import Outcome, SelftestPlan, format_checks, run_selftest
from hub.ingest.broker import free_port
from lab.mosquitto import MosquittoProcess
from protocol.messages import BUTTONS
from tests.edge.camera.test_monitor import face_folder


def config(tmp_path: Path, url: str, **panel: object) -> KioskConfig:
    return KioskConfig.model_validate(
        {
            "device_id": "k1",
            "location_id": "gate-1",
            "data_dir": tmp_path,
            "mqtt": {"url": url},
            "panel": PanelConfig.model_validate(panel).model_dump() if panel else {},
        }
    )


def outcomes(checks: list) -> dict[str, Outcome]:  # type: ignore[type-arg]
    return {check.name: check.outcome for check in checks}


QUICK = SelftestPlan(interactive=False, broker_timeout_s=2)


def test_without_a_broker_the_broker_check_fails_and_names_the_address(tmp_path: Path) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    checks = run_selftest(config(tmp_path, url), QUICK, pin_factory=mock_pin_factory())
    assert outcomes(checks)["broker"] is Outcome.FAIL
    assert url in next(c.detail for c in checks if c.name == "broker")
    assert outcomes(checks)["leds"] is Outcome.PASS
    assert outcomes(checks)["buttons"] is Outcome.SKIP
    assert "FAILED" in format_checks(checks)


def test_an_open_broker_fails_the_acl_check(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    checks = run_selftest(config(tmp_path, mosquitto.url), QUICK, pin_factory=mock_pin_factory())
    assert outcomes(checks)["broker"] is Outcome.PASS
    assert outcomes(checks)["acl"] is Outcome.FAIL
    assert outcomes(checks)["clock"] is Outcome.FAIL, "no hub answers on a bare broker"


def test_interactive_checks_ask_the_technician_and_wait_for_each_button(tmp_path: Path) -> None:
    factory = mock_pin_factory()
    kiosk = config(tmp_path, f"mqtt://127.0.0.1:{free_port()}")
    pending = iter(BUTTONS)

    def technician(prompt: str) -> str:
        if prompt.startswith("Press"):
            pin = factory.pin(kiosk.panel.buttons.pin(next(pending)))
            pin.drive_low()
            pin.drive_high()
            return ""
        return "n" if "unhappy LED" in prompt and "very" not in prompt else "y"

    plan = SelftestPlan(interactive=True, button_timeout_s=2, broker_timeout_s=1)
    checks = run_selftest(kiosk, plan, ask=technician, pin_factory=factory)
    assert outcomes(checks)["buttons"] is Outcome.PASS
    assert outcomes(checks)["leds"] is Outcome.FAIL
    assert next(c.detail for c in checks if c.name == "leds") == "not lit: unhappy"


def test_a_panel_without_leds_skips_the_led_check(tmp_path: Path) -> None:
    kiosk = config(tmp_path, f"mqtt://127.0.0.1:{free_port()}", leds=False)
    checks = run_selftest(kiosk, QUICK, pin_factory=mock_pin_factory())
    assert outcomes(checks)["leds"] is Outcome.SKIP


@pytest.fixture
def mock_pins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    yield


def test_the_command_prints_a_table_and_exits_non_zero_on_failure(
    tmp_path: Path, mock_pins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        'device_id = "k1"\nlocation_id = "gate-1"\ndata_dir = "."\n'
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{free_port()}"\n'
    )
    assert main(["selftest", "--config", str(path), "--no-interactive"]) == 1
    out = capsys.readouterr().out
    assert "broker" in out and "FAIL" in out and "leds" in out


def test_a_configured_camera_is_turned_on_and_checked(
    tmp_path: Path, face_frame: Frame, camera_config: Callable[..., CameraConfig]
) -> None:
    faces = face_folder(tmp_path / "faces", face_frame)
    url = f"mqtt://127.0.0.1:{free_port()}"
    working = config(tmp_path, url).model_copy(
        update={"camera": camera_config(source=str(faces), enabled=False)}
    )
    factory = mock_pin_factory()
    checks = run_selftest(working, QUICK, pin_factory=factory)
    assert outcomes(checks)["camera"] is Outcome.PASS, "checked even while its config has it off"
    assert next(c.detail for c in checks if c.name == "camera").endswith(
        "; indicator LED on GPIO 26 lit while reading"
    )
    indicator = factory.pin(26)
    assert [state.state for state in indicator.states] == [False, True, False], (
        "lit while the camera read, dark after"
    )
    assert not indicator.state
    broken = working.model_copy(
        update={"camera": camera_config(source=str(tmp_path / "unplugged"))}
    )
    checks = run_selftest(broken, QUICK, pin_factory=mock_pin_factory())
    assert outcomes(checks)["camera"] is Outcome.FAIL
    assert "unplugged" in next(c.detail for c in checks if c.name == "camera")


def test_a_camera_check_whose_indicator_led_cannot_be_driven_fails(
    tmp_path: Path, face_frame: Frame, camera_config: Callable[..., CameraConfig]
) -> None:
    faces = face_folder(tmp_path / "faces", face_frame)
    kiosk = config(tmp_path, f"mqtt://127.0.0.1:{free_port()}").model_copy(
        update={"camera": camera_config(source=str(faces))}
    )
    factory = mock_pin_factory()
    service = IndicatorLed(26, pin_factory=factory)  # the running kiosk service holds it
    try:
        checks = run_selftest(kiosk, QUICK, pin_factory=factory)
    finally:
        service.close()
    assert outcomes(checks)["camera"] is Outcome.FAIL
    assert "cannot open the indicator LED on GPIO 26" in next(
        c.detail for c in checks if c.name == "camera"
    )
