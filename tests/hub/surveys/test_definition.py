"""Survey files: what a manager writes by hand, and what he is told when it is wrong."""

from collections.abc import Callable
from pathlib import Path

import pytest

from hub.surveys.definition import load_survey_file, parse_survey
from protocol.errors import ConfigError
from tests.hub.surveys.survey_files import SECURITY, security


def test_a_survey_file_reads_into_a_survey_of_every_language() -> None:
    parsed = security()
    assert parsed.name == "Security checkpoint"
    survey = parsed.survey
    assert (survey.survey_id, survey.version, survey.languages) == (
        "security",
        1,
        ["en", "fa", "nl"],
    )
    negative = survey.follow_up("negative")
    assert negative is not None
    assert [o.key for o in negative.options] == ["queue", "staff", "cleanliness"]
    assert negative.options[0].text["fa"] == "صف طولانی"
    assert survey.follow_up("positive") is not None


def test_a_file_is_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "security.toml"
    path.write_text(SECURITY, encoding="utf-8")
    assert load_survey_file(path).survey.survey_id == "security"
    with pytest.raises(ConfigError, match="cannot read it"):
        load_survey_file(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda t: t.replace("[question]", "[question"), "not valid TOML"),
        (lambda t: t.replace('id = "security"', ""), "`id` is missing"),
        (lambda t: t.replace('id = "security"', 'id = "Security Check"'), "id:"),
        (lambda t: "colour = 1\n" + t, "unknown keys colour"),
        (
            lambda t: t.replace('nl = "Hoe was de veiligheidscontrole?"', ""),
            "question: no text in nl",
        ),
        (
            lambda t: t.replace('nl = "Personeel"', ""),
            r"negative.options\[staff\]: no text in nl",
        ),
        (lambda t: t.replace('key = "staff"', 'key = "queue"'), "option keys must differ"),
        (lambda t: t.replace('key = "fast"', ""), "option 1 of \\[positive\\]: `key` is missing"),
        (lambda t: t.split("[[positive.options]]")[0], "needs its options"),
        (
            lambda t: t.replace('languages = ["en", "fa", "nl"]', 'languages = ["en", "fa"]'),
            "a text in nl",
        ),
    ],
)
def test_a_wrong_file_is_refused_saying_what_to_fix_and_where(
    change: Callable[[str], str], says: str
) -> None:
    with pytest.raises(ConfigError, match=says) as refused:
        parse_survey(change(SECURITY), source="security.toml")
    assert str(refused.value).startswith("security.toml: ")


def test_one_option_is_too_few() -> None:
    text = SECURITY.split('[[positive.options]]\nkey = "friendly"')[0]
    with pytest.raises(ConfigError, match=r"positive\.options: List should have at least 2"):
        parse_survey(text, source="security.toml")
