"""Untrusted text: refused at the door when it carries control characters, escaped on its
way into a log line.

A kiosk, a CSV file, a form or a topic can all carry text that a terminal, an e-mail header,
a log reader or a database takes for something else: a NUL (PostgreSQL refuses it), CR/LF
(a forged log line, a broken mail header), ANSI escapes, Unicode line separators, lone
surrogates (no UTF-8 encoder accepts them), and the invisible bidi and format characters
that make a name, a subject or a log line read other than it is ("Gate A" reversed, hidden
or split by a zero-width space).
"""

import re
from typing import Annotated

from pydantic import AfterValidator

from protocol.errors import ConfigError

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, lone surrogates;
# the Arabic letter mark, zero-width spaces and joiners, left-to-right and right-to-left
# marks, embeddings, overrides and isolates, the word joiner, invisible operators, the BOM
CONTROL_CHARACTER = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


# The same, less the zero-width non-joiner and joiner: words in Persian need the first
# (می‌کند), joined emoji the second. For texts written in a language, not for names.
CONTROL_CHARACTER_IN_PROSE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
    "\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def control_character_in(text: str, *, prose: bool = False) -> str | None:
    """The first control character in `text`, escaped for a message, or None; in `prose`
    (text written in a language) the zero-width non-joiner and joiner are letters' kin."""
    found = (CONTROL_CHARACTER_IN_PROSE if prose else CONTROL_CHARACTER).search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def _printable(text: str) -> str:
    character = control_character_in(text)
    if character is not None:
        raise ValueError(f"control character {character} is not allowed")
    return text


PrintableText = Annotated[str, AfterValidator(_printable)]
"""A pydantic field type: text without control characters."""


def _prose(text: str) -> str:
    character = control_character_in(text, prose=True)
    if character is not None:
        raise ValueError(f"control character {character} is not allowed")
    return text


ProseText = Annotated[str, AfterValidator(_prose)]
"""A pydantic field type: text written in a language (a survey's question, an option):
no control characters, but the zero-width non-joiner and joiner its script may need."""


def printable(text: str, *, what: str, prose: bool = False) -> str:
    """`text` itself, or a ConfigError naming `what` and the character to remove."""
    character = control_character_in(text, prose=prose)
    if character is not None:
        raise ConfigError(
            f"{what} {for_log(text)!s} holds the control character {character}; "
            "use printable characters only"
        )
    return text


def for_log(value: object, *, prose: bool = False) -> str:
    """`str(value)` with every control character written as an escape (`\\n`, `\\u202e`);
    in `prose` the zero-width non-joiner and joiner are kept, as `control_character_in` does."""
    pattern = CONTROL_CHARACTER_IN_PROSE if prose else CONTROL_CHARACTER
    return pattern.sub(_escape, str(value))


def _escape(found: re.Match[str]) -> str:
    return found.group().encode("unicode_escape", "backslashreplace").decode("ascii")
