"""The kiosk's TOML config: the example loads, every mistake is a ConfigError that says where."""

import json
from pathlib import Path

import pytest

from edge.config import load_config
from protocol.errors import ConfigError
from protocol.messages import Button

EXAMPLE = Path(__file__).resolve().parents[2] / "firmware_config" / "kiosk.example.toml"

MINIMAL = 'device_id = "k-1"\nlocation_id = "loc"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def example_with_password(tmp_path: Path, password: str = "s3cr3t-kiosk-pw") -> Path:
    """The shipped example, with its placeholder password replaced as the comments ask."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert 'password = "change-me"' in text
    return write(tmp_path, text.replace('password = "change-me"', f'password = "{password}"'))


def test_example_config_loads_once_its_password_is_set(tmp_path: Path) -> None:
    config = load_config(example_with_password(tmp_path))

    assert config.device_id == "hel-t2-sec-01"
    assert config.location_id == "hel-t2-security"
    assert config.data_dir == Path("/var/lib/seed-kiosk")
    assert config.panel.buttons.pin(Button.UNHAPPY) == 13
    assert config.panel.leds is not None
    assert config.mqtt.url == "mqtts://hub.example.net:8883"
    assert config.simulation.time_zone == "Europe/Helsinki"


def test_example_config_as_shipped_is_refused_for_its_placeholder_password() -> None:
    message = config_error(EXAMPLE)

    assert str(EXAMPLE) in message
    assert "mqtt.password" in message


def test_minimal_config_takes_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))

    assert config.response_interval_s == 5.0
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"


def test_relative_data_dir_is_resolved_against_the_config_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL + 'data_dir = "state/outbox"\n'))

    assert config.data_dir == tmp_path / "state" / "outbox"


def test_absolute_data_dir_is_kept(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL + 'data_dir = "/srv/kiosk"\n'))

    assert config.data_dir == Path("/srv/kiosk")


def test_missing_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    assert str(path) in config_error(path)


def test_invalid_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "response_interval_s = = 5\n")

    message = config_error(path)

    assert str(path) in message
    assert "TOML" in message


def test_misspelled_key_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "respons_interval_s = 3\n")

    message = config_error(path)

    assert str(path) in message
    assert "respons_interval_s" in message


def test_misspelled_nested_key_is_named_with_its_table(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "[mqtt]\npasword = 'x'\n")

    assert "mqtt.pasword" in config_error(path)


@pytest.mark.parametrize("device_id", ["Hel-01", "hel/01", "hel+01", ""])
def test_bad_device_id_is_a_config_error_naming_it(tmp_path: Path, device_id: str) -> None:
    path = write(tmp_path, f'device_id = "{device_id}"\nlocation_id = "loc"\n')

    message = config_error(path)

    assert str(path) in message
    assert "device_id" in message


def test_two_buttons_on_one_pin_is_a_config_error_naming_the_pin(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL + "[panel]\n"
        "buttons = { very_happy = 5, happy = 5, unhappy = 13, very_unhappy = 19 }\n",
    )

    message = config_error(path)

    assert str(path) in message
    assert "panel" in message
    assert "[5]" in message


def test_button_sharing_a_pin_with_an_led_is_a_config_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL + "[panel]\n"
        "buttons = { very_happy = 12, happy = 6, unhappy = 13, very_unhappy = 19 }\n",
    )

    assert "[12]" in config_error(path)


def test_leds_false_is_a_panel_without_leds(tmp_path: Path) -> None:
    lines = example_with_password(tmp_path).read_text().splitlines(keepends=True)
    path = write(
        tmp_path, "".join("leds = false\n" if line.startswith("leds") else line for line in lines)
    )

    assert load_config(path).panel.leds is None


def test_bad_broker_url_is_a_config_error_naming_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '[mqtt]\nurl = "http://hub:1883"\n')

    message = config_error(path)

    assert str(path) in message
    assert "mqtt.url" in message


def test_non_utf8_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_bytes((MINIMAL + "# caf\xe9\n").encode("latin-1"))

    assert str(path) in config_error(path)


def test_password_is_not_in_the_json_dump(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '[mqtt]\nusername = "k-1"\npassword = "hunter2-secret"\n')
    config = load_config(path)

    dumped = config.model_dump_json()

    assert "hunter2-secret" not in dumped
    assert json.loads(dumped)["mqtt"]["username"] == "k-1"
    assert config.mqtt.password is not None
    assert config.mqtt.password.get_secret_value() == "hunter2-secret"


def test_example_password_is_not_in_the_json_dump(tmp_path: Path) -> None:
    config = load_config(example_with_password(tmp_path, "kiosk-pw-4711"))

    assert "kiosk-pw-4711" not in config.model_dump_json(indent=2)


CAMERA_ON = '[camera]\nenabled = true\nsource = "usb:0"\n'


def test_a_camera_turned_on_with_no_indicator_and_no_display_is_refused(tmp_path: Path) -> None:
    problem = config_error(write(tmp_path, MINIMAL + CAMERA_ON))

    assert "camera.enabled needs camera.indicator_led (a BCM pin) or a [display]" in problem
    assert "so people can see the camera is on" in problem
    disabled = MINIMAL + CAMERA_ON + "[display]\nenabled = false\n"
    assert "[display] has enabled = false" in config_error(write(tmp_path, disabled))


@pytest.mark.parametrize(
    "seen",
    ["indicator_led = 26\n", "[display]\nport = 8765\n"],
    ids=["an indicator LED", "a display"],
)
def test_a_camera_that_people_can_see_is_on_loads(tmp_path: Path, seen: str) -> None:
    config = load_config(write(tmp_path, MINIMAL + CAMERA_ON + seen))

    assert config.camera is not None and config.camera.enabled


def test_a_camera_left_off_needs_no_indicator_yet(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL + "[camera]\nenabled = false\n"))

    assert config.camera is not None and not config.camera.enabled
