"""The JSON the score and fleet endpoints answer with, read from the analytics' dataclasses.

Times are written as Python's `isoformat` writes them (`+00:00`, not `Z`), as the pages have
always read them.
"""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

IsoTime = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]


class Read(BaseModel):
    """A model read from a dataclass's (or any object's) attributes."""

    model_config = ConfigDict(from_attributes=True)


class Counts(Read):
    very_happy: int
    happy: int
    unhappy: int
    very_unhappy: int


class PeriodOut(Read):
    since: IsoTime = Field(description="inclusive")
    until: IsoTime = Field(description="exclusive")


class Devices(Read):
    online: int
    offline: int
    last_seen: IsoTime | None = Field(description="the last heard of the kiosks")


class Score(Read):
    responses: int
    counts: Counts
    happy_index: float | None = Field(description="0-100; null without responses")
    positive_share: float | None = Field(description="top-2 box, 0-1")
    positive_ci: tuple[float, float] | None = Field(description="95 % Wilson interval")
    small_sample: bool = Field(description="fewer responses than ranking needs")


class TopReasonOut(Read):
    option: str
    label: str | None = Field(description="its text in the survey's default language")
    labels: dict[str, str] = Field(description="its text in each of the survey's languages")
    count: int
    share: float = Field(description="of the answered negative follow-ups, 0-1")


class OverviewRow(Score):
    location: str
    name: str
    kind: str
    parent: str | None
    depth: int
    time_zone: str
    misuse: int
    previous_happy_index: float | None
    change: float | None = Field(description="against the previous period")
    observed_index: float | None = Field(
        description="the cameras' reading over the period's whole UTC hours (see SummaryOut's "
        "observed), 0-100 in whole points; null without readings, with too few, or withheld"
    )
    observed_coverage: float | None = Field(
        description="readings counted per kiosk press where the cameras read, 0-1 in whole percent"
    )
    observed_suppressed: bool = Field(
        description="the cameras read here, but fewer readings count than a group needs, or a "
        "place beneath with too few could be worked out from these figures"
    )
    devices: Devices
    rank: int | None = Field(description="within its kind; null for a small sample")
    top_negative_reason: TopReasonOut | None = Field(
        default=None, description="the reason most given after a negative answer"
    )
    channels: dict[str, int] = Field(
        default_factory=dict, description="scored responses per channel: kiosk, web (phones)"
    )


class OverviewOut(Read):
    period: PeriodOut
    previous: PeriodOut
    locations: list[OverviewRow] = Field(description="parents before children")
    observed_min_readings: int = Field(
        description="a place's observed figures are shown only with at least this many readings"
    )


class PlaceOut(BaseModel):
    location: str
    name: str
    kind: str
    parent: str | None
    time_zone: str


class PathStep(BaseModel):
    location: str
    name: str


class ObservedOut(Read):
    readings: int = Field(
        description="readings counted: their face found confidently enough; exact, as the "
        "figures are shown only for at least observed_min_readings"
    )
    presses: int = Field(description="kiosk presses at the places where the cameras read")
    coverage: float | None = Field(description="readings per press, 0-1 in whole percent")
    observed_index: float = Field(description="mean valence, 0-100 in whole points")
    gap: float | None = Field(description="observed index less the Happy Index as shown")
    vad: list[float] = Field(description="mean valence, arousal, dominance, to 2 decimals")
    emotions: dict[str, float] = Field(
        description="EMOTIC categories' mean scores to 2 decimals, strongest first"
    )


class SummaryOut(Score):
    misuse: int
    observed: ObservedOut | None = Field(
        description="the readings of the period's whole UTC hours, from the start of the hour "
        "it starts in to the start of the hour it ends in, and the kiosk presses of those "
        "hours; null without readings, or with too few or withheld (observed_suppressed)"
    )
    observed_suppressed: bool = Field(
        description="the cameras read here, but fewer readings count than "
        "observed_min_readings, or a place beneath with too few could be worked out from these "
        "figures"
    )
    observed_min_readings: int = Field(
        description="observed figures are shown only with at least this many readings"
    )
    passersby: int | None
    channels: dict[str, Score] = Field(
        default_factory=dict, description="the same score per channel: kiosk, web (phones)"
    )


class TrendPoint(Score):
    start: date = Field(description="a local day, a week's Monday or a month's first day")


class HeatCell(Read):
    responses: int
    happy_index: float | None
    negative_share: float | None


class HeatmapOut(Read):
    time_zone: str
    cells: list[list[HeatCell]] = Field(description="7 weekdays from Monday, 24 local hours each")


class OptionShareOut(Read):
    option: str
    label: str | None = Field(description="its text in the survey's default language")
    labels: dict[str, str] = Field(description="its text in each of the survey's languages")
    count: int
    share: float | None = Field(description="of the answered follow-ups, 0-1")
    ci: tuple[float, float] | None = Field(description="95 % Wilson interval")


class VersionReasonsOut(Read):
    survey_id: str
    survey_version: int
    answered: int
    unanswered: int
    options: list[OptionShareOut]


class ReasonPointOut(Read):
    start: date = Field(description="a local day")
    answered: int
    unanswered: int
    options: dict[str, int]
    versions: list[str] = Field(description="survey:version answered that day")
    question_changed: bool = Field(
        description="a version answered that day was not answered the day before"
    )


class QuestionReasonsOut(Read):
    question: str = Field(description="negative or positive")
    presses: int = Field(description="scored presses of this polarity")
    followups: int = Field(description="of them, those that got a follow-up")
    followup_share: float | None
    followup_ci: tuple[float, float] | None = Field(description="95 % Wilson interval")
    answered: int
    unanswered: int = Field(description="shown, not answered: a valid outcome")
    options: list[OptionShareOut] = Field(description="most given first")
    top: list[str] = Field(description="the top three options given")
    by_version: list[VersionReasonsOut] = Field(
        description="one entry a survey version, when the period holds more than one"
    )
    trend: list[ReasonPointOut]


class ReasonsOut(Read):
    negative: QuestionReasonsOut
    positive: QuestionReasonsOut


class LocationOut(Read):
    location: str
    name: str
    kind: str
    time_zone: str
    path: list[PathStep] = Field(description="from the root down to this location")
    children: list[str]
    period: PeriodOut
    summary: SummaryOut
    trend_day: list[TrendPoint]
    trend_week: list[TrendPoint]
    heatmap: HeatmapOut
    trend_month: list[TrendPoint]
    reasons: ReasonsOut = Field(description="the follow-ups' answers, after each polarity")


class CompareOut(BaseModel):
    a: LocationOut
    b: LocationOut


class Kiosk(BaseModel):
    device: str
    location: str | None
    registered: bool
    online: bool
    state: str
    last_seen: IsoTime | None
    last_heartbeat: IsoTime | None
    outbox_depth: int | None
    outbox_capacity: int | None
    outbox_dropped: int | None
    clock_offset_s: float | None
    version: str | None
    uptime_s: float | None
    camera: str | None
    camera_fault: str | None
    config_version: int | None
    config_error: str | None
    revoked: bool
