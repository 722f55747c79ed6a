"""The kiosk's side of remote configuration: newer and valid is applied and kept."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.camera.config import CameraConfig
from edge.config import KioskConfig
from edge.remote_config import REMOTE_CONFIG_FILE, RemoteConfigKeeper
from protocol.messages import KioskNotice, RemoteConfig, encode
from protocol.surveys import Survey
from tests.protocol.test_surveys import survey as survey_document

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def base(tmp_path: Path) -> KioskConfig:
    return KioskConfig(device_id="k1", location_id="gate-1", data_dir=tmp_path)


def offer(version: int, device_id: str = "k1", **settings: object) -> bytes:
    return encode(
        RemoteConfig.model_validate(
            {"device_id": device_id, "version": version, "issued_at": datetime.now(UTC), **settings}
        )
    )


def test_a_newer_valid_config_is_applied_and_survives_a_restart(base: KioskConfig) -> None:
    keeper = RemoteConfigKeeper(base)
    verdict = keeper.offer(offer(1, location_id="gate-2", response_interval_s=9, heartbeat_s=30))
    assert verdict.error is None and verdict.config is not None
    assert (verdict.config.location_id, verdict.config.response_interval_s) == ("gate-2", 9)
    assert verdict.config.heartbeat_s == 30
    restarted = RemoteConfigKeeper(base)
    assert restarted.effective() == verdict.config
    assert restarted.version == 1


def test_a_replayed_or_older_version_changes_nothing(base: KioskConfig) -> None:
    keeper = RemoteConfigKeeper(base)
    keeper.offer(offer(3, response_interval_s=9))
    for version in (3, 2):
        verdict = keeper.offer(offer(version, response_interval_s=1))
        assert verdict.config is None and verdict.error is None
    assert keeper.version == 3


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "unreadable config (malformed_json)"),
        (b'{"v": 1, "device_id": "k1", "version": 2}', "unreadable config (invalid_payload)"),
        (offer(2, device_id="k2"), "it is for 'k2'"),
        (offer(2, camera_enabled=True), "no [camera] section"),
        (
            offer(2).replace(b'"version":2', b'"version":2,"location_id":"Gate 2"'),
            "invalid_payload",
        ),
        (offer(2).replace(b'"version":2', b'"version":2,"heartbeat_s":-1'), "invalid_payload"),
    ],
)
def test_a_bad_config_is_refused_with_its_reason_and_the_last_good_one_kept(
    base: KioskConfig, payload: bytes, reason: str
) -> None:
    keeper = RemoteConfigKeeper(base)
    keeper.offer(offer(1, response_interval_s=9))
    saved = (base.data_dir / REMOTE_CONFIG_FILE).read_bytes()
    verdict = keeper.offer(payload)
    assert verdict.config is None
    assert verdict.error is not None and reason in verdict.error
    assert keeper.version == 1
    assert (base.data_dir / REMOTE_CONFIG_FILE).read_bytes() == saved


def test_a_saved_config_the_file_no_longer_allows_is_ignored_at_start(
    base: KioskConfig, caplog: pytest.LogCaptureFixture
) -> None:
    RemoteConfigKeeper(base).offer(offer(1, response_interval_s=9))
    other_kiosk = base.model_copy(update={"device_id": "k9"})
    keeper = RemoteConfigKeeper(other_kiosk)
    assert keeper.effective() == other_kiosk
    assert keeper.version is None
    assert "ignored the saved remote config v1" in caplog.text


def test_a_survey_from_the_hub_is_applied_and_kept_offline_across_a_restart(
    base: KioskConfig,
) -> None:
    survey = Survey.model_validate(survey_document())
    keeper = RemoteConfigKeeper(base)
    verdict = keeper.offer(
        encode(RemoteConfig(device_id="k1", version=1, issued_at=NOW, survey=survey))
    )
    assert verdict.config is not None and verdict.config.survey == survey
    restarted = RemoteConfigKeeper(base)  # no broker, no hub: the saved config
    assert restarted.effective().survey == survey
    assert restarted.version == 1


def test_a_later_config_replaces_the_survey_and_one_without_goes_back_to_buttons_only(
    base: KioskConfig,
) -> None:
    keeper = RemoteConfigKeeper(base)
    survey = Survey.model_validate(survey_document())
    keeper.offer(encode(RemoteConfig(device_id="k1", version=1, issued_at=NOW, survey=survey)))
    newer = survey.model_copy(update={"version": 4})
    verdict = keeper.offer(
        encode(RemoteConfig(device_id="k1", version=2, issued_at=NOW, survey=newer))
    )
    assert verdict.config is not None and verdict.config.survey == newer
    verdict = keeper.offer(offer(3, response_interval_s=9))
    assert verdict.config is not None and verdict.config.survey is None  # the file's: none


def test_a_survey_the_kiosk_cannot_read_is_refused_and_the_last_one_kept(
    base: KioskConfig,
) -> None:
    keeper = RemoteConfigKeeper(base)
    survey = Survey.model_validate(survey_document())
    keeper.offer(encode(RemoteConfig(device_id="k1", version=1, issued_at=NOW, survey=survey)))
    broken = survey_document(question={"en": "How was it?"})  # no Persian text
    payload = offer(2).replace(
        b'"version":2', b'"version":2,"survey":' + json.dumps(broken).encode()
    )
    verdict = keeper.offer(payload)
    assert verdict.config is None and verdict.error is not None and "no text in fa" in verdict.error
    assert RemoteConfigKeeper(base).effective().survey == survey


def notice(kind: str = "requested", team: str = "Cleaning T2") -> KioskNotice:
    return KioskNotice.model_validate(
        {"kind": kind, "team": team, "since": NOW, "time_zone": "Europe/Helsinki"}
    )


def test_notices_are_held_for_the_display_kept_across_a_restart_and_cleared(
    base: KioskConfig,
) -> None:
    keeper = RemoteConfigKeeper(base)
    verdict = keeper.offer(offer(1, response_interval_s=9, notices=[notice()]))
    assert verdict.error is None and verdict.config is not None
    assert verdict.config == base.model_copy(update={"response_interval_s": 9})
    assert keeper.notices == (notice(),)
    assert RemoteConfigKeeper(base).notices == ()  # not read yet
    restarted = RemoteConfigKeeper(base)
    restarted.effective()
    assert restarted.notices == (notice(),)  # offline after a restart: still shown
    keeper.offer(offer(2, notices=[notice("on_the_way")]))
    assert keeper.notices == (notice("on_the_way"),)
    keeper.offer(offer(3, notices=[]))
    assert not keeper.notices


def test_a_config_without_notices_clears_them_too(base: KioskConfig) -> None:
    keeper = RemoteConfigKeeper(base)
    keeper.offer(offer(1, notices=[notice()]))
    keeper.offer(offer(2, response_interval_s=4))  # a hub with notices turned off
    assert keeper.notices == ()


def test_a_config_refused_for_its_notice_keeps_the_notices_shown(base: KioskConfig) -> None:
    keeper = RemoteConfigKeeper(base)
    keeper.offer(offer(1, notices=[notice()]))
    bad = offer(2, notices=[notice()]).replace(b"Cleaning T2", b"Cleaning\\u0007T2")
    verdict = keeper.offer(bad)
    assert verdict.error is not None and "invalid_payload" in verdict.error
    assert keeper.notices == (notice(),) and keeper.version == 1


def test_the_hub_cannot_turn_on_a_camera_that_people_cannot_see_is_on(tmp_path: Path) -> None:
    unseen = KioskConfig.model_validate(
        {"device_id": "k1", "location_id": "gate-1", "data_dir": tmp_path, "camera": {}}
    )
    keeper = RemoteConfigKeeper(unseen)

    verdict = keeper.offer(offer(1, camera_enabled=True))

    assert verdict.config is None and verdict.error is not None
    assert "camera.enabled needs camera.indicator_led (a BCM pin) or a [display]" in verdict.error
    seen = unseen.model_copy(update={"camera": CameraConfig(indicator_led=26)})
    verdict = RemoteConfigKeeper(seen).offer(offer(1, camera_enabled=True))
    assert verdict.config is not None and verdict.config.camera is not None
    assert verdict.config.camera.enabled
