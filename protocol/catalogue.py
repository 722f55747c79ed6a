"""Every message on the wire, as the published protocol lists it: its model, the topic it
travels on, who sends it, the decoder the receiving side runs, and examples.

The examples are JSON documents written out by hand, not produced by our encoder: each is
checked against the real decoder before it is published, so a terminal written from them
speaks what the hub reads.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from protocol.errors import ProtocolError
from protocol.messages import (
    Ack,
    DeviceStatus,
    FollowUp,
    PressEvent,
    RemoteConfig,
    decode_ack,
    decode_kiosk_message,
    decode_remote_config,
    decode_status,
)
from protocol.topics import TopicKind

JsonObject = dict[str, Any]
Sender = Literal["kiosk", "hub"]


@dataclass(frozen=True)
class Example:
    name: str
    summary: str
    payload: JsonObject


@dataclass(frozen=True)
class WireMessage:
    name: str
    """Its schema's file stem and its name in the AsyncAPI document."""
    model: type[BaseModel]
    topic: TopicKind
    sender: Sender
    decode: Callable[[bytes], BaseModel]
    """What its receiver runs on the payload (strict; raises ProtocolError)."""
    summary: str
    examples: tuple[Example, ...]
    required: tuple[str, ...] = ("v",)
    """Fields the decoder needs although the model gives them a default: it reads `v`
    before anything else, and tells a follow-up from a press by `kind`."""


DEVICE = "hel-t2-sec-1"
LOCATION = "hel-t2-security"
PRESS_ID = "01956b2e-3c4d-7e5f-8a6b-7c8d9e0f1a2b"
UNHAPPY_PRESS_ID = "01956b2f-0a1b-7c2d-8e3f-4a5b6c7d8e9f"

_PRESS = {
    "v": 1,
    "event_id": PRESS_ID,
    "device_id": DEVICE,
    "location_id": LOCATION,
    "seq": 41,
    "occurred_at": "2026-03-02T08:15:04.120Z",
    "button": "happy",
}

PRESS_EXAMPLES = (
    Example("minimal", "A press as the smallest terminal sends it", _PRESS),
    Example(
        "resent",
        "An unhappy press answering survey version 3, sent again with the terminal's "
        "send time and its clock offset measured from the hub's last ack",
        {
            **_PRESS,
            "event_id": UNHAPPY_PRESS_ID,
            "seq": 42,
            "occurred_at": "2026-03-02T08:16:30.004Z",
            "button": "unhappy",
            "misuse": False,
            "sent_at": "2026-03-02T08:16:31.250Z",
            "clock_offset_s": -1.25,
            "survey_id": "security-2026",
            "survey_version": 3,
        },
    ),
    Example(
        "with_camera",
        "A press with the camera's reading of the face at that moment (scores only)",
        {
            **_PRESS,
            "event_id": "01956b30-1d2e-7f3a-8b4c-5d6e7f8a9b0c",
            "seq": 43,
            "occurred_at": "2026-03-02T08:18:12.500Z",
            "button": "very_happy",
            "emotion": {
                "emotions": [0.0] * 11 + [0.35] + [0.0] * 4 + [0.82, 0.0, 0.1, 0.57] + [0.0] * 6,
                "vad": [0.91, 0.62, 0.7],
                "expressions": [0.01, 0.0, 0.01, 0.82, 0.02, 0.04, 0.1],
                "face_score": 0.93,
                "age_s": 0.4,
                "faces": 1,
            },
        },
    ),
)

_FOLLOWUP = {
    "v": 1,
    "kind": "followup",
    "followup_id": "01956b2f-1b2c-7d3e-9f4a-5b6c7d8e9fa0",
    "event_id": UNHAPPY_PRESS_ID,
    "device_id": DEVICE,
    "location_id": LOCATION,
    "survey_id": "security-2026",
    "survey_version": 3,
    "question": "negative",
    "option": "queue",
    "language": "fi",
    "answered_at": "2026-03-02T08:16:33.800Z",
}

FOLLOWUP_EXAMPLES = (
    Example("answered", "The reason chosen after the unhappy press above", _FOLLOWUP),
    Example(
        "unanswered",
        "The question was shown and left unanswered (`option` left out)",
        {
            key: value
            for key, value in _FOLLOWUP.items()
            if key not in ("option", "followup_id", "language")
        }
        | {"followup_id": "01956b2f-2c3d-7e4f-8a5b-6c7d8e9fa0b1"},
    ),
)

STATUS_EXAMPLES = (
    Example(
        "online",
        "Birth and heartbeat (retained): the terminal is up, with its outbox depth",
        {
            "v": 1,
            "device_id": DEVICE,
            "state": "online",
            "sent_at": "2026-03-02T08:20:00.000Z",
            "location_id": LOCATION,
            "version": "esp32-fw 1.4.0",
            "uptime_s": 86400.5,
            "outbox_depth": 0,
            "outbox_capacity": 2000,
            "outbox_dropped": 0,
            "config_version": 4,
        },
    ),
    Example(
        "last_will",
        "The last will (retained), set at connect: the broker publishes it when the "
        "connection drops without a clean disconnect",
        {
            "v": 1,
            "device_id": DEVICE,
            "state": "offline",
            "sent_at": "2026-03-02T06:00:02.000Z",
            "location_id": LOCATION,
        },
    ),
    Example(
        "camera",
        "A heartbeat of a kiosk whose camera is on",
        {
            "v": 1,
            "device_id": DEVICE,
            "state": "online",
            "sent_at": "2026-03-02T08:21:00.000Z",
            "location_id": LOCATION,
            "version": "0.1.0",
            "uptime_s": 86460.5,
            "outbox_depth": 3,
            "camera": "ok",
            "passersby_total": 1250,
        },
    ),
)

REMOTE_CONFIG_EXAMPLES = (
    Example(
        "settings",
        "Settings for one terminal; a field left out keeps the terminal's own",
        {
            "v": 1,
            "device_id": DEVICE,
            "version": 4,
            "issued_at": "2026-03-01T16:00:00.000Z",
            "response_interval_s": 5.0,
            "heartbeat_s": 60.0,
        },
    ),
    Example(
        "survey",
        "A survey with a follow-up after unhappy presses, in two languages, and a notice "
        "for the display",
        {
            "v": 1,
            "device_id": DEVICE,
            "version": 5,
            "issued_at": "2026-03-02T07:00:00.000Z",
            "survey": {
                "survey_id": "security-2026",
                "version": 3,
                "languages": ["en", "fi"],
                "question": {
                    "en": "How was the security check?",
                    "fi": "Miten turvatarkastus sujui?",
                },
                "negative": {
                    "text": {"en": "What went wrong?", "fi": "Mikä meni vikaan?"},
                    "options": [
                        {"key": "queue", "text": {"en": "The queue", "fi": "Jono"}},
                        {"key": "staff", "text": {"en": "The staff", "fi": "Henkilökunta"}},
                    ],
                },
                "answer_s": 8.0,
            },
            "notices": [
                {
                    "kind": "on_the_way",
                    "team": "Cleaning",
                    "since": "2026-03-02T06:55:00Z",
                    "time_zone": "Europe/Helsinki",
                }
            ],
        },
    ),
)

ACK_EXAMPLES = (
    Example(
        "stored",
        "Both presses are stored (or were already): delete them from the outbox",
        {
            "v": 1,
            "stored": [PRESS_ID, UNHAPPY_PRESS_ID],
            "rejected": [],
            "hub_time": "2026-03-02T08:16:32.102Z",
        },
    ),
    Example(
        "rejected",
        "One stored, one refused for good: delete both, log the refusal",
        {
            "v": 1,
            "stored": [PRESS_ID],
            "rejected": [
                {"v": 1, "event_id": UNHAPPY_PRESS_ID, "reason": "location_mismatch"},
            ],
            "hub_time": "2026-03-02T08:16:32.102Z",
        },
    ),
    Example(
        "status_answer",
        "The answer to a live status: nothing to delete, only the hub's time",
        {"v": 1, "stored": [], "rejected": [], "hub_time": "2026-03-02T08:20:00.031Z"},
    ),
)

CATALOGUE: tuple[WireMessage, ...] = (
    WireMessage(
        "press_event",
        PressEvent,
        "events",
        "kiosk",
        decode_kiosk_message,
        "A button press",
        PRESS_EXAMPLES,
    ),
    WireMessage(
        "followup",
        FollowUp,
        "events",
        "kiosk",
        decode_kiosk_message,
        "The answer to the follow-up question after a press",
        FOLLOWUP_EXAMPLES,
        required=("v", "kind"),
    ),
    WireMessage(
        "device_status",
        DeviceStatus,
        "status",
        "kiosk",
        decode_status,
        "Birth, heartbeat and last will",
        STATUS_EXAMPLES,
    ),
    WireMessage(
        "ack",
        Ack,
        "ack",
        "hub",
        decode_ack,
        "What the hub stored or refused for good, and its clock",
        ACK_EXAMPLES,
    ),
    WireMessage(
        "remote_config",
        RemoteConfig,
        "config",
        "hub",
        decode_remote_config,
        "Settings, survey and notices the hub pushes to one terminal",
        REMOTE_CONFIG_EXAMPLES,
    ),
)


def check_example(wire: WireMessage, example: Example) -> BaseModel:
    """The example decoded by its receiver's decoder, or a ProtocolError naming it."""
    payload = _json_bytes(example.payload)
    try:
        decoded = wire.decode(payload)
    except ProtocolError as exc:
        where = f"example {wire.name}/{example.name}"
        raise ProtocolError(exc.reason, f"{where}: {exc.detail}") from exc
    if not isinstance(decoded, wire.model):
        raise ProtocolError(
            "invalid_payload",
            f"example {wire.name}/{example.name} decodes as {type(decoded).__name__}",
        )
    return decoded


def _json_bytes(document: JsonObject) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()
