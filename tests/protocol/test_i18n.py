"""Catalogs: every language has every text, with the same placeholders, and says which way
it is written; a new language is one file, and what it lacks is named."""

import re
import shutil
from pathlib import Path

import pytest

from edge.display.server import LOCALES as KIOSK_PAGE
from protocol.errors import ConfigError
from protocol.i18n import load_catalogs

PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.mark.parametrize("folder", [KIOSK_PAGE], ids=["kiosk page"])
def test_every_language_has_every_text_with_its_placeholders(folder: Path) -> None:
    catalogs = load_catalogs(folder)
    assert {"en", "nl", "zh-Hans", "fa"} <= set(catalogs.languages)
    assert catalogs.missing() == {}
    for language in catalogs.languages.values():
        for msgid, text in language.texts.items():
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), (
                language.tag,
                msgid,
            )


def test_persian_is_written_right_to_left_and_named_in_itself() -> None:
    persian = load_catalogs(KIOSK_PAGE).language("fa")
    assert (persian.direction, persian.name) == ("rtl", "فارسی")
    assert load_catalogs(KIOSK_PAGE).language("zh-Hans").direction == "ltr"


def test_a_new_language_is_one_file_and_what_it_lacks_is_named(tmp_path: Path) -> None:
    shutil.copytree(KIOSK_PAGE, tmp_path / "locales")
    (tmp_path / "locales" / "de.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Thank you!"\nmsgstr "Danke!"\n\nmsgid "Skip"\nmsgstr ""\n',
        encoding="utf-8",
    )
    catalogs = load_catalogs(tmp_path / "locales")
    assert catalogs.language("de").texts["Thank you!"] == "Danke!"
    assert "Skip" in catalogs.missing()["de"] and "Happy" in catalogs.missing()["de"]
    assert catalogs.language("xx").tag == "en"  # a language without a catalog: English


def test_a_folder_without_the_english_catalog_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no en\.po"):
        load_catalogs(tmp_path)
