"""Survey files as managers write them, for hub tests."""

from hub.surveys.definition import SurveyFile, parse_survey

SECURITY = """
id = "security"
name = "Security checkpoint"
languages = ["en", "fa", "nl"]

[question]
en = "How was the security check?"
fa = "بازرسی امنیتی چطور بود؟"
nl = "Hoe was de veiligheidscontrole?"

[negative]
en = "What went wrong?"
fa = "چه چیزی خوب نبود؟"
nl = "Wat ging er mis?"

[[negative.options]]
key = "queue"
en = "Queue too long"
fa = "صف طولانی"
nl = "Rij te lang"

[[negative.options]]
key = "staff"
en = "Staff"
fa = "کارکنان"
nl = "Personeel"

[[negative.options]]
key = "cleanliness"
en = "Cleanliness"
fa = "نظافت"
nl = "Netheid"

[positive]
en = "What went well?"
fa = "چه چیزی خوب بود؟"
nl = "Wat ging er goed?"

[[positive.options]]
key = "fast"
en = "Fast"
fa = "سریع"
nl = "Snel"

[[positive.options]]
key = "friendly"
en = "Friendly staff"
fa = "کارکنان مهربان"
nl = "Vriendelijk personeel"
"""


def security(text: str = SECURITY) -> SurveyFile:
    return parse_survey(text, source="security.toml")


def reworded() -> SurveyFile:
    """The same survey with one option's wording changed: its next version."""
    return security(SECURITY.replace('en = "Queue too long"', 'en = "Waited too long"'))
