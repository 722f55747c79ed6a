"""Escaping untrusted text for a log line or a message: names strictly, prose as written."""

import pytest

from protocol.text import control_character_in, for_log

PERSIAN = "می\u200cکند"
"""'does': one word, its zero-width non-joiner keeps the two halves from joining."""


def test_names_show_the_zero_width_non_joiner_and_joiner_as_escapes() -> None:
    assert for_log(PERSIAN) == "می\\u200cکند"
    assert for_log("👩\u200d🚒") == "👩\\u200d🚒"


def test_prose_keeps_them_as_its_script_needs() -> None:
    assert for_log(PERSIAN, prose=True) == PERSIAN
    assert for_log("👩\u200d🚒", prose=True) == "👩\u200d🚒"


@pytest.mark.parametrize(
    "hostile", ["a\nb", "a\r\nb", "Gate \u202eA", "a\u200bb", "a\u2066b", "\ufeffa", "a\x1b[31m"]
)
def test_prose_still_escapes_every_other_control_character(hostile: str) -> None:
    escaped = for_log(hostile, prose=True)
    assert escaped == for_log(hostile)
    assert control_character_in(escaped) is None


def test_prose_escapes_exactly_what_prose_refuses() -> None:
    for code in range(0x3000):
        character = chr(code)
        refused = control_character_in(character, prose=True) is not None
        assert (for_log(character, prose=True) != character) == refused, hex(code)
