"""Issue 15: the hub pushes a kiosk its survey in its remote config, through a real Mosquitto
configured by `seed-hub fleet init`. A config as big as the hub lets one be passes the
broker's packet limit (which binds the hub's loopback listener too); a bigger one is refused
when it is made, never lost at the broker."""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.app import Hub
from hub.cli import main as seed_hub
from hub.config import IngestSettings
from protocol.messages import decode_remote_config
from protocol.topics import Topics
from tests.helpers import wait_until
from tests.integration.test_fleet_security import (
    FleetEnv,
    provisioned_fleet,
    running_hub,
    session_of,
)

pytestmark = pytest.mark.mosquitto

LANGUAGES = ["en", "nl", "de", "fr"]


def survey_file(text_chars: int) -> str:
    """Four languages, six options after each answer, every text `text_chars` long."""

    def texts(label: str) -> str:
        return "".join(f'{tag} = "{(label * text_chars)[:text_chars]}"\n' for tag in LANGUAGES)

    parts = [
        'id = "security"\n',
        f"languages = {LANGUAGES!r}\n".replace("'", '"'),
        "[question]\n" + texts("q"),
    ]
    for question in ("negative", "positive"):
        parts.append(f"[{question}]\n" + texts(question[0]))
        for i in range(6):
            parts.append(f'[[{question}.options]]\nkey = "o{i}"\n' + texts(str(i)))
    return "\n".join(parts)


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FleetEnv]:
    with provisioned_fleet(tmp_path, monkeypatch) as env:
        yield env


@pytest.fixture
def hub(fleet: FleetEnv) -> Iterator[Hub]:
    with running_hub() as running:
        yield running


def test_a_kiosk_receives_a_survey_as_big_as_a_config_may_be(
    fleet: FleetEnv, hub: Hub, tmp_path: Path
) -> None:
    bundle = fleet.provision("kiosk-1", auth="password")
    assert seed_hub(["surveys", "languages", "hel", ",".join(LANGUAGES)]) == 0
    too_big, fits = tmp_path / "too-big.toml", tmp_path / "fits.toml"
    too_big.write_text(survey_file(80), encoding="utf-8")
    assert seed_hub(["surveys", "create", str(too_big)]) == 0
    assert seed_hub(["surveys", "assign", "security", "hel"]) == 2  # over the limit: refused
    limit = IngestSettings().max_payload_bytes
    chars = 80
    while chars > 1:  # the longest texts that still make a config within the limit
        chars -= 1
        fits.write_text(survey_file(chars), encoding="utf-8")
        assert seed_hub(["surveys", "create", str(fits)]) == 0
        if seed_hub(["surveys", "assign", "security", "hel"]) == 0:
            break
    device = fleet.device("kiosk-1")
    assert device is not None and device.desired_config is not None
    size = len(device.desired_config.encode())
    assert limit - 200 < size <= limit
    options = fleet.options(bundle, "kiosk-1")
    options = dataclasses.replace(options, subscriptions=(Topics().config("kiosk-1"),))
    with session_of(options) as kiosk:
        wait_until(lambda: bool(kiosk.received), 15, "the retained config to reach the kiosk")
        config = decode_remote_config(kiosk.received[-1].payload)
    assert config.survey is not None and config.survey.languages == LANGUAGES
    assert hub.wait_connected(1), "the hub's publish did not cost it its connection"
