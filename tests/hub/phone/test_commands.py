"""`seed-hub qr …` as a manager types it: links issued, listed, revoked and reissued, and
posters written as PDF or SVG."""

import re
from pathlib import Path

import pytest

from hub.cli import main
from hub.db import make_engine, session_factory
from hub.phone.links import links_of
from tests.hub.factories import place

URL = re.compile(r"https://feedback\.example\.com/t/([A-Za-z0-9_-]{22})")


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("SEED_HUB_PHONE_PUBLIC_URL", "https://feedback.example.com")
    with session_factory(make_engine(sqlite_url)).begin() as session:
        place(session, "hel", kind="site", time_zone="UTC")
    return ["--db", sqlite_url]


def tokens(sqlite_url: str, *, live_only: bool = False) -> list[str]:
    with session_factory(make_engine(sqlite_url))() as session:
        return [link.token for link in links_of(session, location_id="hel", live_only=live_only)]


def test_issue_list_revoke_and_reissue(
    db: list[str], sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["qr", "issue", "hel", "--by", "ann", *db]) == 0
    issued = URL.search(capsys.readouterr().out)
    assert issued
    token = issued.group(1)
    assert main(["qr", "reissue", token, *db]) == 0
    reissued = URL.search(capsys.readouterr().out)
    assert reissued and reissued.group(1) != token
    assert tokens(sqlite_url, live_only=True) == [reissued.group(1)]
    assert main(["qr", "list", "hel", *db]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1].startswith(reissued.group(1))  # live first, under the heading
    assert listed[2].startswith(token) and "(ann)" in listed[2]
    assert main(["qr", "revoke", reissued.group(1), *db]) == 0
    assert "revoked" in capsys.readouterr().out
    assert tokens(sqlite_url, live_only=True) == []


def test_mistakes_are_told_with_what_to_do(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["qr", "issue", "nowhere", *db]) == 2
    assert main(["qr", "issue", "hel", "--kiosk", "k9", *db]) == 2
    assert main(["qr", "revoke", "A" * 22, *db]) == 2
    assert main(["qr", "list", "nowhere", *db]) == 2
    err = capsys.readouterr().err
    assert err.count("no location 'nowhere'") == 2
    assert "no kiosk 'k9'" in err
    assert "seed-hub qr list" in err


def test_posters_as_pdf_and_svg(
    db: list[str], sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, svg = tmp_path / "hel.pdf", tmp_path / "hel.svg"
    assert main(["qr", "poster", "hel", "--out", str(pdf), *db]) == 0
    assert main(["qr", "poster", "hel", "--out", str(svg), "--size", "a5", *db]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text
    assert "How was your experience today?" in text
    assert "Scan with your phone camera to answer" in text
    (token,) = tokens(sqlite_url)  # issued by the first poster, reused by the second
    assert f"https://feedback.example.com/t/{token}" in capsys.readouterr().out
    assert main(["qr", "poster", "hel", "--out", str(tmp_path / "hel.png"), *db]) == 2
    assert main(["qr", "poster", "hel", "--out", str(pdf), "--token", "B" * 22, *db]) == 2
    err = capsys.readouterr().err
    assert ".pdf or a .svg" in err
    assert "no live link" in err


def test_without_a_public_url_links_use_the_dashboard_address_with_a_warning(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SEED_HUB_PHONE_PUBLIC_URL", raising=False)
    monkeypatch.setenv("SEED_HUB_WEB_HOST", "10.0.0.5")
    monkeypatch.setenv("SEED_HUB_WEB_PORT", "8080")
    with session_factory(make_engine(sqlite_url)).begin() as session:
        place(session, "hel", kind="site", time_zone="UTC")
    assert main(["qr", "issue", "hel", "--db", sqlite_url]) == 0
    out, err = capsys.readouterr()
    assert "http://10.0.0.5:8080/t/" in out
    assert "SEED_HUB_PHONE_PUBLIC_URL" in err
