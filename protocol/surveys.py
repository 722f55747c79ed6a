"""What a touchpoint asks, as the hub sends it to a kiosk: the question above the buttons and
the follow-ups after a negative and after a positive answer, every text in each of the
location's languages (the first is the default).
"""

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from protocol.text import ProseText

SurveyId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
OptionKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")]
"""A BCP 47 tag as the kiosk page and the dashboard use it: en, nl, zh-Hans, fa."""
Text = Annotated[ProseText, Field(min_length=1, max_length=120)]
Texts = Annotated[dict[LanguageTag, Text], Field(min_length=1, max_length=8)]
"""One text in each language."""
Question = Literal["negative", "positive"]
"""Which follow-up: after an unhappy or very unhappy press, or after a happy or very happy."""

MIN_OPTIONS, MAX_OPTIONS = 2, 6
MAX_LANGUAGES = 8


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SurveyOption(_Part):
    key: OptionKey
    text: Texts


class FollowUpQuestion(_Part):
    text: Texts
    options: list[SurveyOption] = Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)

    @model_validator(mode="after")
    def _distinct_keys(self) -> Self:
        keys = [option.key for option in self.options]
        if len(set(keys)) != len(keys):
            raise ValueError(f"option keys must differ: {keys}")
        return self


class Survey(_Part):
    """One version of a survey, with every text in every one of `languages`."""

    survey_id: SurveyId
    version: int = Field(ge=1, le=2**31 - 1)
    languages: list[LanguageTag] = Field(min_length=1, max_length=MAX_LANGUAGES)
    question: Texts
    negative: FollowUpQuestion | None = None
    positive: FollowUpQuestion | None = None
    answer_s: float = Field(
        default=8.0, ge=2, le=60, description="how long the follow-up waits for a choice"
    )

    @model_validator(mode="after")
    def _every_text_in_every_language(self) -> Self:
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"languages repeat: {self.languages}")
        wanted = set(self.languages)
        for where, texts in self.texts():
            missing = sorted(wanted - texts.keys())
            extra = sorted(texts.keys() - wanted)
            problems = [f"no text in {', '.join(missing)}"] if missing else []
            if extra:
                problems.append(f"a text in {', '.join(extra)}, not one of the languages")
            if problems:
                raise ValueError(f"{where}: {'; '.join(problems)}")
        return self

    def texts(self) -> list[tuple[str, dict[str, str]]]:
        """Every text of the survey with where it stands (`negative.options[queue]`)."""
        found: list[tuple[str, dict[str, str]]] = [("question", self.question)]
        for name in ("negative", "positive"):
            follow_up: FollowUpQuestion | None = getattr(self, name)
            if follow_up is not None:
                found.append((f"{name}.text", follow_up.text))
                found.extend(
                    (f"{name}.options[{option.key}]", option.text) for option in follow_up.options
                )
        return found

    def follow_up(self, question: Question) -> FollowUpQuestion | None:
        return self.negative if question == "negative" else self.positive
