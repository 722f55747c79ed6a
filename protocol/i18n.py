"""Words in the traveller's language: one gettext catalog (a `.po` file) per language in a
folder, read with Babel. Adding a language is adding one file; `missing` says what it lacks.

Languages are named by BCP 47 tags (`en`, `nl`, `zh-Hans`, `fa`); a catalog file is named by
Babel's locale id (`zh_Hans.po`).
"""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from protocol.errors import ConfigError

SOURCE_LANGUAGE = "en"


def tag_of(locale: Locale) -> str:
    """`zh_Hans` -> `zh-Hans`."""
    return str(locale).replace("_", "-")


def locale_of(tag: str) -> Locale:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise ConfigError(
            f"unknown language {tag!r}; use a tag such as en, nl, zh-Hans, fa"
        ) from exc


@dataclass(frozen=True)
class Language:
    tag: str
    name: str
    """The language's name in itself: Nederlands, 中文 (简体), فارسی."""
    direction: str
    """`ltr` or `rtl`."""
    texts: dict[str, str]
    """msgid -> text; an untranslated one falls back to the English msgid."""


@dataclass(frozen=True)
class Catalogs:
    folder: Path
    languages: dict[str, Language]
    places: dict[str, frozenset[str]] = field(default_factory=dict)
    """msgid -> the files that show it, as the English catalog's `#:` comments name them."""

    def shown_in(self, suffix: str) -> frozenset[str]:
        """The msgids some file ending in `suffix` shows (`.js`: the scripts' words)."""
        return frozenset(
            msgid for msgid, files in self.places.items() if any(f.endswith(suffix) for f in files)
        )

    def language(self, tag: str) -> Language:
        """The language, or English where no catalog has it."""
        return self.languages.get(tag) or self.languages[SOURCE_LANGUAGE]

    def missing(self) -> dict[str, list[str]]:
        """Per language, the English msgids it has no text for."""
        wanted = set(self.languages[SOURCE_LANGUAGE].texts)
        gaps = {
            tag: sorted(wanted - {msgid for msgid, text in language.texts.items() if text})
            for tag, language in self.languages.items()
        }
        return {tag: msgids for tag, msgids in gaps.items() if msgids}


@cache
def load_catalogs(folder: Path) -> Catalogs:
    """Every `<locale>.po` in the folder; `en.po` must be there."""
    languages: dict[str, Language] = {}
    places: dict[str, frozenset[str]] = {}
    for path in sorted(folder.glob("*.po")):
        locale = locale_of(path.stem)
        with path.open("rb") as file:
            catalog: Catalog = read_po(file, locale=locale)
        if path.stem == SOURCE_LANGUAGE:
            places = {
                str(message.id): frozenset(str(place) for place, _ in message.locations)
                for message in catalog
                if message.id and isinstance(message.id, str)
            }
        texts = {
            str(message.id): str(message.string)
            for message in catalog
            if message.id and isinstance(message.id, str)
        }
        tag = tag_of(locale)
        languages[tag] = Language(
            tag, locale.get_display_name(locale) or tag, locale.text_direction, texts
        )
    if SOURCE_LANGUAGE not in languages:
        raise ConfigError(f"{folder} has no {SOURCE_LANGUAGE}.po, the catalog others translate")
    return Catalogs(folder, languages, places)
