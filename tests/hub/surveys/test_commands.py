"""`seed-hub surveys …` as a manager types it."""

from pathlib import Path

import pytest

from hub.cli import main
from hub.db import make_engine, session_factory
from hub.ingest import store
from tests.hub.factories import place
from tests.hub.surveys.survey_files import SECURITY


def test_the_surveys_commands(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "security.toml"
    path.write_text(SECURITY, encoding="utf-8")
    with session_factory(make_engine(sqlite_url)).begin() as session:
        place(session, "hel", kind="site", time_zone="UTC")
        place(session, "lane-1", parent="hel", time_zone="UTC")
        store.register_device(session, device_id="k1", location_id="lane-1")
    db = ["--db", sqlite_url]
    assert main(["surveys", "create", str(path), *db]) == 0
    assert main(["surveys", "create", str(path), *db]) == 0
    assert main(["surveys", "languages", "hel", "nl,en", *db]) == 0
    assert main(["surveys", "assign", "security", "hel", *db]) == 0
    assert main(["surveys", "list", "--json", *db]) == 0
    assert main(["surveys", "show", "security", "--version", "1", *db]) == 0
    assert main(["surveys", "retire", "security", *db]) == 0
    assert main(["surveys", "assign", "security", "hel", *db]) == 2
    out, err = capsys.readouterr()
    assert "survey security version 1 saved; no kiosk's config changed" in out
    assert "survey security unchanged: version 1 says the same" in out
    assert "hel and beneath it ask security; new config for 1 kiosk(s): k1" in out
    assert '"assigned_to": [\n      "hel"\n    ]' in out
    assert "بازرسی امنیتی چطور بود؟" in out
    assert "is retired" in err
