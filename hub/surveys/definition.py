"""A survey as a manager writes it by hand, in TOML, and read into `protocol.surveys.Survey`.

    id = "security"                    # lowercase letters, digits, '.', '_', '-'
    name = "Security checkpoint"       # shown in the dashboard
    languages = ["en", "fa"]           # every text below in each of them
    answer_s = 8                       # optional: how long a follow-up waits (2-60 s)

    [question]                         # above the buttons
    en = "How was the security check?"
    fa = "بازرسی امنیتی چطور بود؟"

    [negative]                         # optional: after unhappy or very unhappy
    en = "What went wrong?"
    fa = "چه چیزی خوب نبود؟"

    [[negative.options]]               # two to six
    key = "queue"
    en = "Queue too long"
    fa = "صف طولانی"

    [positive]                         # optional: after happy or very happy, as [negative]

A file names no version: the hub numbers them, 1 and then one more at each change.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from protocol.errors import ConfigError
from protocol.surveys import Survey
from protocol.validation import summarise

NAME_MAX_CHARS = 200
TOP_KEYS = frozenset({"id", "name", "languages", "answer_s", "question", "negative", "positive"})


@dataclass(frozen=True)
class SurveyFile:
    """What a survey file holds: its name, and its wording (as version 1 until stored)."""

    name: str
    survey: Survey


def load_survey_file(path: Path) -> SurveyFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it: {exc}") from exc
    return parse_survey(text, source=str(path))


def parse_survey(text: str, *, source: str = "survey") -> SurveyFile:
    """The survey a TOML text describes, or a ConfigError saying what to fix, and where."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    unknown = sorted(document.keys() - TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown keys {', '.join(unknown)}; a survey has "
            f"{', '.join(sorted(TOP_KEYS))}"
        )
    for key in ("id", "languages", "question"):
        if key not in document:
            raise ConfigError(f"{source}: `{key}` is missing (see `seed-hub surveys create -h`)")
    name = document.get("name", document["id"])
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX_CHARS:
        raise ConfigError(f"{source}: name: 1 to {NAME_MAX_CHARS} characters")
    body: dict[str, Any] = {
        "survey_id": document["id"],
        "version": 1,
        "languages": document["languages"],
        "question": _texts(document["question"], "question", source),
    }
    if "answer_s" in document:
        body["answer_s"] = document["answer_s"]
    for question in ("negative", "positive"):
        if question in document:
            body[question] = _follow_up(document[question], question, source)
    try:
        survey = Survey.model_validate(body)
    except ValidationError as exc:
        problems = summarise(exc, root="texts", separator="\n", indent="  ")
        problems = problems.replace("survey_id:", "id:").replace("Value error, ", "")
        raise ConfigError(f"{source}: fix these:\n{problems}") from exc
    return SurveyFile(name=name.strip(), survey=survey)


def _texts(table: Any, where: str, source: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f'{source}: [{where}] must be a table of texts: en = "..."')
    return table


def _follow_up(table: Any, where: str, source: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{where}] must be a table: its texts and [[{where}.options]]")
    texts = {k: v for k, v in table.items() if k != "options"}
    options = table.get("options")
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise ConfigError(
            f"{source}: [{where}] needs its options, two to six [[{where}.options]] tables, "
            'each with key = "..." and a text in each language'
        )
    parsed = []
    for position, option in enumerate(options, start=1):
        if "key" not in option:
            raise ConfigError(f"{source}: option {position} of [{where}]: `key` is missing")
        parsed.append(
            {"key": option["key"], "text": {k: v for k, v in option.items() if k != "key"}}
        )
    return {"text": texts, "options": parsed}
