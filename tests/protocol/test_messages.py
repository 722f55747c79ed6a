"""Message schemas: round trips through encode/decode and every ProtocolError reason."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from protocol.errors import ProtocolError
from protocol.messages import (
    MAX_NOTICES,
    NOTICE_TEAM_MAX_CHARS,
    Ack,
    Button,
    DeviceState,
    DeviceStatus,
    KioskNotice,
    PressEvent,
    Rejection,
    RemoteConfig,
    decode_ack,
    decode_event,
    decode_remote_config,
    decode_status,
    encode,
)

HELSINKI_SUMMER = timezone(timedelta(hours=3))


def event_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "v": 1,
        "event_id": "0190b5a2-7c4e-7000-8000-000000000001",
        "device_id": "hel-t2-sec-01",
        "location_id": "hel-t2-security",
        "seq": 7,
        "occurred_at": "2024-06-01T12:00:00+03:00",
        "button": "happy",
        "misuse": False,
    }
    document.update(changes)
    return document


def event_payload(**changes: Any) -> bytes:
    return json.dumps(event_document(**changes)).encode()


def reason_for(payload: bytes) -> str:
    with pytest.raises(ProtocolError) as caught:
        decode_event(payload)
    return caught.value.reason


def test_press_event_round_trips() -> None:
    event = PressEvent(
        event_id="e-1",
        device_id="hel-t2-sec-01",
        location_id="hel-t2-security",
        seq=42,
        occurred_at=datetime(2024, 6, 1, 9, 0, tzinfo=UTC),
        button=Button.VERY_UNHAPPY,
        misuse=True,
    )

    assert decode_event(encode(event)) == event


def test_device_status_round_trips_with_and_without_optional_fields() -> None:
    full = DeviceStatus(
        device_id="k-1",
        state=DeviceState.ONLINE,
        sent_at=datetime(2024, 6, 1, 9, 0, tzinfo=UTC),
        location_id="loc",
        version="0.1.0",
        uptime_s=12.5,
        outbox_depth=3,
    )
    bare = DeviceStatus(
        device_id="k-1", state=DeviceState.OFFLINE, sent_at=datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
    )

    assert decode_status(encode(full)) == full
    assert decode_status(encode(bare)) == bare


MODEL_SHA256 = "0123456789abcdef" * 4


def status_payload(**changes: Any) -> bytes:
    document = {"v": 1, "device_id": "k-1", "state": "online", "sent_at": "2026-12-02T12:00:00Z"}
    return json.dumps({**document, **changes}).encode()


def test_a_status_carries_its_model_sha256_or_none() -> None:
    assert decode_status(status_payload(model_sha256=MODEL_SHA256)).model_sha256 == MODEL_SHA256
    assert decode_status(status_payload()).model_sha256 is None


@pytest.mark.parametrize(
    "sha256", [MODEL_SHA256.upper(), MODEL_SHA256[:-1], MODEL_SHA256 + "0", "g" * 64, ""]
)
def test_a_model_sha256_that_is_not_64_lowercase_hex_digits_is_invalid(sha256: str) -> None:
    with pytest.raises(ProtocolError, match="invalid_payload") as caught:
        decode_status(status_payload(model_sha256=sha256))
    assert "model_sha256" in caught.value.detail


def test_ack_round_trips() -> None:
    ack = Ack(stored=["a", "b"], rejected=[Rejection(event_id="c", reason="invalid_payload")])

    assert decode_ack(encode(ack)) == ack


def test_encode_writes_the_schema_version() -> None:
    ack = Ack(stored=["a"])

    assert json.loads(encode(ack))["v"] == 1


def test_decoded_timestamps_are_in_utc() -> None:
    event = decode_event(event_payload(occurred_at="2024-06-01T12:00:00+03:00"))

    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.occurred_at == datetime(2024, 6, 1, 9, 0, tzinfo=UTC)


def test_timestamps_given_in_another_zone_are_stored_in_utc() -> None:
    status = DeviceStatus(
        device_id="k-1",
        state=DeviceState.ONLINE,
        sent_at=datetime(2024, 6, 1, 12, 0, tzinfo=HELSINKI_SUMMER),
    )

    assert status.sent_at.tzinfo == UTC
    assert status.sent_at.hour == 9


@pytest.mark.parametrize("payload", [b"not json", b'{"v": 1,', b""], ids=["text", "cut", "empty"])
def test_non_json_is_malformed_json(payload: bytes) -> None:
    assert reason_for(payload) == "malformed_json"


def test_invalid_utf8_is_malformed_json() -> None:
    assert reason_for(b'{"v": 1, "event_id": "\xff\xfe"}') == "malformed_json"


def test_utf16_encoded_json_is_malformed_json() -> None:
    assert reason_for(json.dumps(event_document()).encode("utf-16")) == "malformed_json"


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"text"', b"1"], ids=["array", "string", "number"])
def test_json_that_is_not_an_object_is_malformed_json(payload: bytes) -> None:
    assert reason_for(payload) == "malformed_json"


def test_version_2_is_an_unknown_schema_version() -> None:
    assert reason_for(event_payload(v=2)) == "unknown_schema_version"


def test_missing_version_is_an_unknown_schema_version() -> None:
    document = event_document()
    del document["v"]

    assert reason_for(json.dumps(document).encode()) == "unknown_schema_version"


def test_unknown_schema_version_applies_to_status_and_ack_too() -> None:
    with pytest.raises(ProtocolError, match="unknown_schema_version"):
        decode_status(b'{"v": 2}')
    with pytest.raises(ProtocolError, match="unknown_schema_version"):
        decode_ack(b'{"stored": []}')


def test_unknown_button_is_invalid_payload() -> None:
    assert reason_for(event_payload(button="meh")) == "invalid_payload"


def test_naive_timestamp_is_invalid_payload() -> None:
    assert reason_for(event_payload(occurred_at="2024-06-01T12:00:00")) == "invalid_payload"


def test_unknown_extra_field_is_invalid_payload() -> None:
    assert reason_for(event_payload(colour="green")) == "invalid_payload"


@pytest.mark.parametrize("device_id", ["hel/t2", "hel+t2", "#", "Hel-T2", ""])
def test_device_id_unsafe_in_a_topic_is_invalid_payload(device_id: str) -> None:
    assert reason_for(event_payload(device_id=device_id)) == "invalid_payload"


def test_sequence_below_one_is_invalid_payload() -> None:
    assert reason_for(event_payload(seq=0)) == "invalid_payload"


def test_invalid_payload_detail_names_the_field() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_event(event_payload(button="meh"))

    assert "button" in caught.value.detail


def test_invalid_status_and_ack_are_invalid_payload() -> None:
    with pytest.raises(ProtocolError, match="invalid_payload"):
        decode_status(
            b'{"v": 1, "device_id": "k-1", "state": "asleep", "sent_at": "2024-06-01T12:00:00Z"}'
        )
    with pytest.raises(ProtocolError, match="invalid_payload"):
        decode_ack(b'{"v": 1, "stored": "not-a-list"}')


def config_with_notices(notices: Any) -> bytes:
    return json.dumps(
        {
            "v": 1,
            "device_id": "k-1",
            "version": 3,
            "issued_at": "2026-11-23T12:00:00Z",
            "notices": notices,
        }
    ).encode()


def notice_document(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "requested",
        "team": "Cleaning T2",
        "since": "2026-11-23T10:42:00+02:00",
        "time_zone": "Europe/Helsinki",
        **changes,
    }


def test_kiosk_notices_round_trip_and_an_empty_list_stays_said() -> None:
    notice = KioskNotice(
        kind="on_the_way",
        team="نظافت T2",
        since=datetime(2026, 11, 23, 8, 42, tzinfo=UTC),
        time_zone="Asia/Tehran",
    )
    config = RemoteConfig(device_id="k-1", version=3, issued_at=datetime.now(UTC), notices=[notice])
    assert decode_remote_config(encode(config)) == config
    cleared = config.model_copy(update={"notices": []})
    assert decode_remote_config(encode(cleared)).settings() == {"notices": []}
    assert (
        "notices"
        not in decode_remote_config(encode(config.model_copy(update={"notices": None}))).settings()
    )
    decoded = decode_remote_config(config_with_notices([notice_document()]))
    assert decoded.notices is not None
    assert decoded.notices[0].since == datetime(2026, 11, 23, 8, 42, tzinfo=UTC)


@pytest.mark.parametrize(
    ("notices", "field"),
    [
        ([notice_document(team="x" * (NOTICE_TEAM_MAX_CHARS + 1))], "team"),
        ([notice_document(team="")], "team"),
        ([notice_document(team="Clean\ning")], "team"),
        ([notice_document(team="Clean\u202eing")], "team"),
        ([notice_document(kind="fixed")], "kind"),
        ([notice_document(since="2026-11-23T10:42:00")], "since"),
        ([notice_document(time_zone="../etc/passwd")], "time_zone"),
        ([notice_document(mobile="+358 40 123")], "mobile"),
        ([notice_document()] * (MAX_NOTICES + 1), "notices"),
        ({"team": "Cleaning"}, "notices"),
    ],
)
def test_a_notice_out_of_bounds_makes_the_config_invalid(notices: Any, field: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_remote_config(config_with_notices(notices))
    assert caught.value.reason == "invalid_payload" and field in caught.value.detail


def test_a_team_name_at_the_limit_is_taken() -> None:
    name = "x" * NOTICE_TEAM_MAX_CHARS
    decoded = decode_remote_config(config_with_notices([notice_document(team=name)]))
    assert decoded.notices is not None and decoded.notices[0].team == name
