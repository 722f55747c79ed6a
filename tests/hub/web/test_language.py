"""The dashboard in its reader's language: the browser's wish, the reader's choice, the
catalogs kept in step with the sources, and figures and moments left to the page's formatter."""

import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.web import messages
from hub.web.language import (
    COOKIE,
    LOCALES,
    catalogs,
    moment_element,
    number_element,
)

Client = Callable[[str | None], TestClient]
HTML_TAG = re.compile(r'<html lang="([^"]+)" dir="([^"]+)">')
SCRIPT_WORDS = re.compile(r'<script type="application/json" id="seed-messages">(.*?)</script>')


def _page_language(page: str) -> tuple[str, str]:
    found = HTML_TAG.search(page)
    assert found, "the page has no <html lang dir>"
    return found.group(1), found.group(2)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("fa-IR,fa;q=0.9,en;q=0.5", ("fa", "rtl")),
        ("zh-CN,zh;q=0.9", ("zh-Hans", "ltr")),
        ("de-DE,de;q=0.9,nl;q=0.5", ("nl", "ltr")),
        ("en;q=0.2,nl-BE;q=0.8", ("nl", "ltr")),
        ("de", ("en", "ltr")),
        ("", ("en", "ltr")),
        ("q=x;,,;q=;*;nl;q=zz,xx-@@", ("en", "ltr")),
    ],
)
def test_the_browsers_wish_picks_the_language(
    client_as: Client, accept_language: str, expected: tuple[str, str]
) -> None:
    page = client_as(None).get("/login", headers={"Accept-Language": accept_language})
    assert page.status_code == 200
    assert _page_language(page.text) == expected


def test_the_readers_choice_outlasts_the_browsers_wish_and_goes_back_where_they_were(
    client_as: Client,
) -> None:
    manager = client_as("manager")
    chosen = manager.post(
        "/language", data={"language": "fa", "next": "/alerts?state=open"}, follow_redirects=False
    )
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/alerts?state=open"
    assert manager.cookies.get(COOKIE) == "fa"
    page = manager.get("/alerts", headers={"Accept-Language": "nl"})
    assert _page_language(page.text) == ("fa", "rtl")
    persian = catalogs().language("fa")
    assert f">{persian.texts['Alerts']}</a>" in page.text, "the navigation speaks Persian"
    assert 'lang="fa" dir="rtl" aria-current="true">فارسی</button>' in page.text


def test_an_unknown_language_or_a_foreign_return_address_is_not_followed(
    client_as: Client,
) -> None:
    manager = client_as("manager")
    answer = manager.post(
        "/language",
        data={"language": "xx", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"
    assert COOKIE not in manager.cookies


def test_a_language_switch_without_its_token_is_refused(client_as: Client) -> None:
    stranger = client_as(None)
    stranger.get("/login")
    assert stranger.post("/language", data={"language": "fa"}).status_code == 403


def test_the_scripts_get_their_words_in_the_pages_language_and_only_those(
    client_as: Client,
) -> None:
    manager = client_as("manager")
    manager.cookies.set(COOKIE, "nl")
    found = SCRIPT_WORDS.search(manager.get("/").text)
    assert found
    words = json.loads(found.group(1))
    scripts = catalogs().shown_in(".js")
    assert words, "the scripts have Dutch words"
    assert set(words) <= scripts


def test_the_catalogs_hold_every_text_the_sources_mark_and_every_language_translates_it() -> None:
    template = messages.extract()
    assert len(template) > 100, "the dashboard's words are marked in its templates and scripts"
    assert messages.stale(template) == [], "run: python -m hub.web.messages"
    assert messages.untranslated() == {}
    assert {"en", "nl", "zh-Hans", "fa"} <= set(catalogs().languages)


def test_a_new_language_is_one_file_and_the_check_names_what_it_lacks(tmp_path: Path) -> None:
    shutil.copytree(LOCALES, tmp_path, dirs_exist_ok=True)
    german = tmp_path / "de.po"
    german.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Sign out"\nmsgstr "Abmelden"\n',
        encoding="utf-8",
    )
    template = messages.extract()
    assert messages.stale(template, tmp_path) == [german]
    german.write_bytes(messages.render(messages.updated(template, german)))
    assert messages.stale(template, tmp_path) == []
    lacking = messages.untranslated(tmp_path)
    assert list(lacking) == ["de.po"]
    assert "Sign out" not in lacking["de.po"] and "Overview" in lacking["de.po"]


def test_figures_and_moments_are_left_to_the_pages_formatter() -> None:
    assert str(number_element(1234.5, 1)) == (
        '<data class="number" value="1234.5" data-digits="1">1234.5</data>'
    )
    assert str(number_element(None)) == "\u2013"
    moment = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert str(moment_element(moment)) == (
        '<time class="moment" datetime="2026-12-01T08:30:00+00:00">2026-12-01T08:30:00+00:00</time>'
    )
    assert str(moment_element(None, "not yet")) == "not yet"
