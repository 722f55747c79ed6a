"""Message schemas (JSON, versioned by the field `v`) and their decoding.

Decoding is strict: every failure is a `ProtocolError` whose `reason` names the kind of
fault, so the hub can dead-letter it and count it.
"""

import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
)

from protocol.errors import ProtocolError
from protocol.surveys import LanguageTag, OptionKey, Question, Survey, SurveyId
from protocol.text import PrintableText
from protocol.validation import summarise

SCHEMA_VERSION: Literal[1] = 1
DEVICE_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
LOCATION_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
EVENT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1  # counters stored in 32-bit columns


class Button(StrEnum):
    VERY_HAPPY = "very_happy"
    HAPPY = "happy"
    UNHAPPY = "unhappy"
    VERY_UNHAPPY = "very_unhappy"


BUTTONS: tuple[Button, ...] = tuple(Button)


class DeviceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("timestamp outside the representable range") from exc


DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN.pattern.join("^$"))]
LocationId = Annotated[str, Field(pattern=LOCATION_ID_PATTERN)]
Timestamp = Annotated[AwareDatetime, AfterValidator(_utc)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    v: Literal[1] = SCHEMA_VERSION


Probability = Annotated[float, Field(ge=0, le=1)]


class ObservedEmotion(BaseModel):
    """What the kiosk's camera read on the face in front of it at the press: scores only.

    `emotions` follows `protocol.emotions.EMOTIC_CATEGORIES`, `expressions` (if the model
    has them) `protocol.emotions.EXPRESSIONS`, `vad` is valence, arousal, dominance.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    emotions: list[Probability] = Field(min_length=26, max_length=26)
    vad: list[Probability] = Field(min_length=3, max_length=3)
    expressions: list[Probability] | None = Field(default=None, min_length=7, max_length=7)
    face_score: Probability
    age_s: float = Field(ge=-30, le=30, description="press time minus the frame's time")
    faces: int = Field(ge=1, le=1000, description="faces in the frame")


EventId = Annotated[str, Field(pattern=EVENT_ID_PATTERN.pattern.join("^$"))]


class PressEvent(_Message):
    """One button press, as the kiosk recorded it."""

    kind: Literal["press"] | None = Field(
        default=None, description="left out on the wire, so that hubs before follow-ups read it"
    )
    event_id: EventId
    device_id: DeviceId
    location_id: LocationId
    seq: int = Field(ge=1, le=INT64_MAX, description="per-device sequence, strictly increasing")
    occurred_at: Timestamp
    button: Button
    misuse: bool = Field(default=False, description="pressed within the response interval")
    sent_at: Timestamp | None = Field(
        default=None, description="the kiosk's clock when it (last) sent the event"
    )
    clock_offset_s: float | None = Field(
        default=None,
        ge=-1e10,
        le=1e10,
        description="hub clock minus kiosk clock, as the kiosk last measured it from an ack",
    )
    emotion: ObservedEmotion | None = Field(
        default=None, description="the camera's reading at the press, where the camera is on"
    )
    survey_id: SurveyId | None = Field(default=None, description="the survey it answered")
    survey_version: int | None = Field(default=None, ge=1, le=INT32_MAX)


class FollowUp(_Message):
    """The traveller's answer to the follow-up question shown after a press: one option, or
    none (`option` left out: the question was shown and not answered, or the screen was
    left). It travels as a press does, on the events topic, and is stored once, by its own
    id; the hub links it to its press by `event_id`, whichever arrives first."""

    kind: Literal["followup"] = "followup"
    followup_id: EventId
    event_id: EventId = Field(description="the press it follows")
    device_id: DeviceId
    location_id: LocationId
    survey_id: SurveyId
    survey_version: int = Field(ge=1, le=INT32_MAX)
    question: Question
    option: OptionKey | None = None
    language: LanguageTag | None = Field(default=None, description="the page's language")
    answered_at: Timestamp
    sent_at: Timestamp | None = None
    clock_offset_s: float | None = Field(default=None, ge=-1e10, le=1e10)


def _kind(document: Any) -> str:
    """A kiosk message's kind; events from kiosks older than follow-ups are presses."""
    kind = document.get("kind") if isinstance(document, dict) else getattr(document, "kind", None)
    return str(kind or "press")


KioskMessage = Annotated[
    Annotated[PressEvent, Tag("press")] | Annotated[FollowUp, Tag("followup")],
    Discriminator(_kind),
]
_KIOSK_MESSAGE: TypeAdapter[PressEvent | FollowUp] = TypeAdapter(KioskMessage)


class DeviceStatus(_Message):
    """Retained device status: birth, heartbeat, or the last-will `offline`."""

    device_id: DeviceId
    state: DeviceState
    sent_at: Timestamp
    location_id: LocationId | None = None
    version: PrintableText | None = Field(default=None, max_length=64)
    uptime_s: float | None = Field(default=None, ge=0)
    outbox_depth: int | None = Field(default=None, ge=0, le=INT32_MAX)
    outbox_capacity: int | None = Field(default=None, ge=1, le=INT32_MAX)
    outbox_dropped: int | None = Field(default=None, ge=0, le=INT32_MAX)
    config_version: int | None = Field(
        default=None, ge=1, le=INT32_MAX, description="the remote config the kiosk runs on"
    )
    config_error: PrintableText | None = Field(
        default=None, max_length=300, description="why the kiosk refused the latest remote config"
    )
    camera: Literal["off", "starting", "ok", "fault"] | None = Field(
        default=None, description="None: the kiosk has no camera"
    )
    camera_fault: PrintableText | None = Field(default=None, max_length=300)
    passersby_total: int | None = Field(
        default=None,
        ge=0,
        le=INT32_MAX,
        description="distinct faces passing since the kiosk started (ambient mode)",
    )
    model_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="the sha256 its emotion model's manifest pins, while the camera is on",
    )
    probe: bool = Field(
        default=False,
        description="a selftest asking for the hub's time: answered, not recorded",
    )


NOTICE_TEAM_MAX_CHARS = 80
MAX_NOTICES = 3
TIME_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+/-]{0,63}$"


class KioskNotice(BaseModel):
    """What a kiosk's display tells travellers is being done at its place: staff have been
    called (`requested`) or are on their way (`on_the_way`). A team's name and a time only,
    never a person; the kiosk shows `since` as HH:MM in `time_zone`, the place's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["requested", "on_the_way"]
    team: PrintableText = Field(min_length=1, max_length=NOTICE_TEAM_MAX_CHARS)
    since: Timestamp
    time_zone: str = Field(pattern=TIME_ZONE_PATTERN, description="IANA, e.g. Europe/Helsinki")


class RemoteConfig(_Message):
    """Settings the hub pushes to one kiosk, retained on its config topic.

    A field left out keeps the kiosk's own setting. The kiosk applies a higher version
    only, validates it against its own rules, and keeps its last good config otherwise.
    """

    device_id: DeviceId
    version: int = Field(ge=1, le=INT32_MAX)
    issued_at: Timestamp
    location_id: LocationId | None = None
    response_interval_s: float | None = Field(default=None, ge=0, le=3600)
    heartbeat_s: float | None = Field(default=None, ge=5, le=86_400)
    camera_enabled: bool | None = None
    survey: Survey | None = Field(
        default=None, description="what the kiosk asks; kept (offline too) until the next"
    )
    notices: list[KioskNotice] | None = Field(
        default=None,
        max_length=MAX_NOTICES,
        description="what its display tells travellers is being handled at its place; an "
        "empty list clears them (sent once the last task there is resolved). Only hubs with "
        "SEED_HUB_TASK_KIOSK_NOTICE on send it: a kiosk older than notices refuses a config "
        "that has it (unknown field) and keeps its last good one",
    )

    def settings(self) -> dict[str, Any]:
        """The settings it carries, without its envelope."""
        return self.model_dump(
            exclude_none=True, exclude={"v", "device_id", "version", "issued_at"}
        )


class Rejection(_Message):
    event_id: EventId
    reason: PrintableText = Field(max_length=64)


class Ack(_Message):
    """The hub's word that it has stored (or for good refused) these events."""

    stored: list[str] = Field(default_factory=list)
    rejected: list[Rejection] = Field(default_factory=list)
    hub_time: Timestamp | None = Field(
        default=None, description="the hub's clock at sending: kiosks measure their skew on it"
    )


def encode(message: BaseModel) -> bytes:
    return message.model_dump_json(exclude_none=True).encode()


def with_sent_at(
    event_payload: bytes, at: datetime | None = None, clock_offset_s: float | None = None
) -> bytes:
    """Stamp an encoded event with its send time and the kiosk's latest clock offset."""
    document = json.loads(event_payload)
    moment = at or datetime.now(UTC)
    document["sent_at"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if clock_offset_s is not None:
        document["clock_offset_s"] = round(clock_offset_s, 3)
    return json.dumps(document, separators=(",", ":")).encode()


M = TypeVar("M", bound=_Message)


def _document(payload: bytes) -> str:
    """The payload as JSON text of a v1 object, or a ProtocolError saying what is wrong."""
    try:
        text = payload.decode("utf-8")
        document: Any = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("malformed_json", str(exc)) from exc
    except RecursionError as exc:
        raise ProtocolError("malformed_json", "nested too deeply") from exc
    if not isinstance(document, dict):
        raise ProtocolError("malformed_json", "payload is not a JSON object")
    version = document.get("v")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise ProtocolError("unknown_schema_version", f"v={version!r}, this hub reads v=1")
    return text


def _decode(payload: bytes, model: type[M]) -> M:
    text = _document(payload)
    try:
        return model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise ProtocolError("invalid_payload", summarise(exc, root="<root>", limit=5)) from exc


def decode_kiosk_message(payload: bytes) -> PressEvent | FollowUp:
    """What a kiosk publishes on its events topic: a press, or a follow-up to one."""
    text = _document(payload)
    try:
        return _KIOSK_MESSAGE.validate_json(text, strict=True)
    except ValidationError as exc:
        raise ProtocolError("invalid_payload", summarise(exc, root="<root>", limit=5)) from exc


def decode_event(payload: bytes) -> PressEvent:
    return _decode(payload, PressEvent)


def decode_status(payload: bytes) -> DeviceStatus:
    return _decode(payload, DeviceStatus)


def decode_ack(payload: bytes) -> Ack:
    return _decode(payload, Ack)


def decode_remote_config(payload: bytes) -> RemoteConfig:
    return _decode(payload, RemoteConfig)
