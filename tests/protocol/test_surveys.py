"""Surveys as the hub sends them, follow-ups as kiosks publish them."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from protocol.errors import ProtocolError
from protocol.messages import (
    FollowUp,
    PressEvent,
    RemoteConfig,
    decode_kiosk_message,
    decode_remote_config,
    encode,
)
from protocol.surveys import Survey

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def survey(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "survey_id": "security",
        "version": 3,
        "languages": ["en", "fa"],
        "question": {"en": "How was the security check?", "fa": "بازرسی امنیتی چطور بود؟"},
        "negative": {
            "text": {"en": "What went wrong?", "fa": "چه چیزی خوب نبود؟"},
            "options": [
                {"key": "queue", "text": {"en": "Queue too long", "fa": "صف طولانی"}},
                {"key": "staff", "text": {"en": "Staff", "fa": "کارکنان"}},
            ],
        },
    }
    document.update(changes)
    return document


def test_a_survey_travels_in_the_remote_config_and_back() -> None:
    config = RemoteConfig(
        device_id="k1", version=7, issued_at=NOW, survey=Survey.model_validate(survey())
    )
    decoded = decode_remote_config(encode(config))
    assert decoded.survey is not None and decoded.survey.version == 3
    assert decoded.survey.follow_up("negative") is not None
    assert decoded.survey.follow_up("positive") is None
    assert decoded.settings()["survey"]["languages"] == ["en", "fa"]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"question": {"en": "How was it?"}}, "question: no text in fa"),
        ({"languages": ["en"]}, "a text in fa, not one of the languages"),
        ({"languages": ["en", "en"]}, "languages repeat"),
        ({"survey_id": "Security Check"}, "survey_id"),
    ],
)
def test_a_survey_missing_a_translation_is_refused_with_where(
    changes: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        Survey.model_validate(survey(**changes))


def test_a_follow_up_has_two_to_six_distinct_options() -> None:
    one = survey()
    one["negative"]["options"] = one["negative"]["options"][:1]
    with pytest.raises(ValidationError, match="at least 2"):
        Survey.model_validate(one)
    twice = survey()
    twice["negative"]["options"][1]["key"] = "queue"
    with pytest.raises(ValidationError, match="option keys must differ"):
        Survey.model_validate(twice)


def test_the_events_topic_carries_presses_and_follow_ups() -> None:
    press = PressEvent(
        event_id="e1",
        device_id="k1",
        location_id="gate-a",
        seq=1,
        occurred_at=NOW,
        button="unhappy",
        survey_id="security",
        survey_version=3,
    )
    wire = encode(press)
    assert b'"kind"' not in wire  # a hub from before follow-ups still reads the press
    assert decode_kiosk_message(wire) == press
    answer = FollowUp(
        followup_id="f1",
        event_id="e1",
        device_id="k1",
        location_id="gate-a",
        survey_id="security",
        survey_version=3,
        question="negative",
        option="queue",
        language="fa",
        answered_at=NOW,
    )
    assert decode_kiosk_message(encode(answer)) == answer
    unanswered = answer.model_copy(update={"option": None})
    decoded = decode_kiosk_message(encode(unanswered))
    assert isinstance(decoded, FollowUp) and decoded.option is None


@pytest.mark.parametrize(
    "document",
    [
        {"v": 1, "kind": "survey"},
        {"v": 1, "kind": "followup", "event_id": "e1"},
        {
            "v": 1,
            "kind": "followup",
            "followup_id": "f1",
            "event_id": "e1",
            "device_id": "k1",
            "location_id": "gate-a",
            "survey_id": "s",
            "survey_version": 1,
            "question": "maybe",
            "answered_at": "2026-12-01T09:30:00Z",
        },
    ],
)
def test_a_bad_kiosk_message_is_a_protocol_error(document: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as refused:
        decode_kiosk_message(json.dumps(document).encode())
    assert refused.value.reason == "invalid_payload"


def test_persian_keeps_its_zero_width_non_joiner_and_no_other_invisible_character() -> None:
    document = survey()
    document["question"]["fa"] = "پاسخ شما به ما کمک می\u200cکند"
    assert "\u200c" in Survey.model_validate(document).question["fa"]
    for hidden in ("\u202e", "\u200b", "\u200f", "\x00"):
        document["question"]["fa"] = f"بازرسی{hidden}"
        with pytest.raises(ValidationError, match=f"U\\+{ord(hidden):04X}"):
            Survey.model_validate(document)
