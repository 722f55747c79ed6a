"""Personal data masked out of a traveller's comment before it is stored.

The comment is normalised first (NFKC, so full-width digits and at signs become ASCII; U+200B,
U+2060 and U+FEFF dropped) and that normalised text is what is stored, with each e-mail
address, phone number, card number and document number replaced by `[email]`, `[phone]`,
`[card]` or `[document]`. Digits of any script (Persian, Arabic-Indic, ...) are read
as ASCII for matching, but text that is kept keeps its own digits. The original is never
logged or kept here.

What is caught, in the order tried at each position:
- e-mail: `local@domain.tld`, also `(at)`/`[at]`/`{at}`/`<at>` and `(dot)`/`[dot]`/... and
  spaces around `@`; a bare ` at `/` dot ` is not (too many sentences read like it).
- IBAN: two capitals, two digits, then groups of four letters or digits (at least 8 digits).
- document: passport-like `AB1234567`, Spanish DNI/NIE `12345678Z`/`X1234567L`, Chinese
  resident id (17 digits and a digit or X).
- dates (`12.03.2026`, `03/12/2026`, `2026-12-01`) and times (`10:42`) are left alone.
- a run of digits joined by single separators (space . - / and brackets), read as a whole:
  fewer than 8 digits is kept; a leading `+` is a phone; 13-19 digits grouped like a card
  are a card when Luhn-valid and starting 2-6, a document otherwise; an unbroken run is a
  card (Luhn-valid, 2-6), a phone (`0…`, `00…` from 11 digits, a Chinese mobile `1[3-9]…`
  of 11, or exactly 8 digits that are not a `YYYYMMDD` date) or else a document (account
  or national id numbers); a run with separators is a phone up to 15 digits, a document
  beyond.

Every pattern is linear: separators are mandatory between digit groups and every start is
anchored by a look-behind, so a match can start only once per run.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class MaskKind(StrEnum):
    """What a marker stands for; the marker is the value in brackets."""

    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Masked:
    """A comment with its personal data replaced, and which kinds were found."""

    text: str
    kinds: frozenset[MaskKind]


MIN_NUMBER_DIGITS = 8
MAX_PHONE_DIGITS = 15
CARD_DIGITS = range(13, 20)
IBAN_MIN_DIGITS = 8

_DROPPED = dict.fromkeys(map(ord, "\u200b\u2060\ufeff"))
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")

_LOCAL = r"[A-Za-z0-9._%+\-\u00c0-\u024f]"
_LABEL = r"[A-Za-z0-9\-\u00c0-\u024f]+"
_AT = r"\s?@\s?|\s*[(\[{<](?i:at)[)\]}>]\s*"
_DOT = r"\.|\s*[(\[{<](?i:dot)[)\]}>]\s*"
_EMAIL = (
    rf"(?<!{_LOCAL}){_LOCAL}+(?:{_AT}){_LABEL}(?:(?:{_DOT}){_LABEL})*(?:{_DOT})"
    rf"(?i:[a-z]{{2,24}})(?![A-Za-z0-9\-])"
)
_IBAN = r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
_ID = (
    r"(?<![A-Za-z0-9])"
    r"(?:[A-Za-z]{1,2}[0-9]{6,9}|[XYZ]?[0-9]{7,8}[A-Z]|[0-9]{17}[0-9X])"
    r"(?![A-Za-z0-9])"
)
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[3-9]|20)?[0-9]{2}"  # 13xx-19xx too: Persian and Hijri years
_DATE_BODY = (
    rf"(?:{_DAY}[./-]{_MONTH}[./-]{_YEAR}|{_MONTH}/{_DAY}/{_YEAR}"
    rf"|(?:1[3-9]|20)[0-9]{{2}}[./-]{_MONTH}[./-]{_DAY})(?![0-9])(?![./-][0-9])"
)
_TIME_BODY = r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?![0-9])"
_DATE = rf"(?<![0-9])(?:{_DATE_BODY}|{_TIME_BODY})"
_DASHES = "\\-\u2010-\u2013\u2212"
_SEP = rf"(?:\) ?| ?\(| ?[/{_DASHES}] ?|[ .])"
_NUMBER = (
    rf"(?<![0-9])(?:\+ ?)?(?:\((?=[0-9]{{1,5}}\)))?[0-9]+"
    rf"(?:{_SEP}(?!{_DATE_BODY}|{_TIME_BODY})[0-9]+)*"
)
_CANDIDATE = re.compile(
    r"(?=[0-9A-Za-z+(._%\-\u00c0-\u024f])"  # every candidate starts so: other positions fail fast
    rf"(?:(?P<email>{_EMAIL})|(?P<iban>{_IBAN})|(?P<document>{_ID})"
    rf"|(?P<date>{_DATE})|(?P<number>{_NUMBER}))"
)
_ANY_CANDIDATE = re.compile(r"[0-9@]|[(\[{<](?i:at)[)\]}>]")
_CARD_GROUPS = ((4, 6, 5), (4, 6, 4))
_GROUP_SPLIT = re.compile(rf"[ {_DASHES}]")
_CARD_SEPARATED = re.compile(rf"[0-9]+(?:[ {_DASHES}][0-9]+)+")
_COMPACT_DATE = re.compile(r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
_CHINESE_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def mask_personal_data(text: str) -> Masked:
    """Replace e-mail addresses, phone, card and document numbers with markers."""
    normalised = normalise(text)
    matching = _OTHER_DIGIT.sub(_ascii_digit, normalised)
    pieces: list[str] = []
    kinds: set[MaskKind] = set()
    kept_from = 0
    for start, end, kind in _findings(matching):
        pieces += [normalised[kept_from:start], f"[{kind}]"]
        kinds.add(kind)
        kept_from = end
    pieces.append(normalised[kept_from:])
    return Masked(text="".join(pieces), kinds=frozenset(kinds))


def normalise(text: str) -> str:
    """The text as it is stored: NFKC, without zero-width spaces, joiners or BOMs."""
    return unicodedata.normalize("NFKC", text).translate(_DROPPED)


def _ascii_digit(match: re.Match[str]) -> str:
    return str(unicodedata.decimal(match.group()))


def _findings(matching: str) -> Iterator[tuple[int, int, MaskKind]]:
    """Each stretch to mask, left to right; what is looked at and kept is stepped over."""
    if _ANY_CANDIDATE.search(matching) is None:
        return
    position = 0
    while (found := _CANDIDATE.search(matching, position)) is not None:
        kind = _kind(found)
        if kind is not None:
            yield found.start(), found.end(), kind
        position = found.end()


def _kind(found: re.Match[str]) -> MaskKind | None:
    group = found.lastgroup
    if group == "email":
        return MaskKind.EMAIL
    if group == "document":
        return MaskKind.DOCUMENT
    if group == "iban":
        return MaskKind.DOCUMENT if _digit_count(found.group()) >= IBAN_MIN_DIGITS else None
    if group == "number":
        return _number_kind(found.group())
    return None


def _number_kind(span: str) -> MaskKind | None:
    digits = "".join(filter(str.isdigit, span))
    if len(digits) < MIN_NUMBER_DIGITS:
        return None
    if span.startswith("+"):
        return MaskKind.PHONE
    if digits == span:
        return _unbroken_kind(digits)
    if len(digits) in CARD_DIGITS and _card_shaped(span):
        return MaskKind.CARD if _card_number(digits) else MaskKind.DOCUMENT
    return MaskKind.PHONE if len(digits) <= MAX_PHONE_DIGITS else MaskKind.DOCUMENT


def _unbroken_kind(digits: str) -> MaskKind | None:
    """A run with no separators: card, phone, or an account or id number."""
    count = len(digits)
    if count in CARD_DIGITS and _card_number(digits):
        return MaskKind.CARD
    if count == MIN_NUMBER_DIGITS:
        return None if _COMPACT_DATE.fullmatch(digits) else MaskKind.PHONE
    if count <= MAX_PHONE_DIGITS and _phone_run(digits):
        return MaskKind.PHONE
    return MaskKind.DOCUMENT


def _phone_run(digits: str) -> bool:
    if digits.startswith("00"):
        return len(digits) >= 11
    return digits.startswith("0") or _CHINESE_MOBILE.fullmatch(digits) is not None


def _card_shaped(span: str) -> bool:
    """Groups as cards print them: fours (the last shorter), or 4-6-5 and 4-6-4."""
    if _CARD_SEPARATED.fullmatch(span) is None:
        return False
    sizes = tuple(len(group) for group in _GROUP_SPLIT.split(span))
    fours = all(size == 4 for size in sizes[:-1]) and 1 <= sizes[-1] <= 4
    return fours or sizes in _CARD_GROUPS


def _card_number(digits: str) -> bool:
    """A card's issuer range (2-6) and a valid Luhn check digit."""
    return digits[0] in "23456" and _luhn_valid(digits)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digit_count(text: str) -> int:
    return sum(char.isdigit() for char in text)
