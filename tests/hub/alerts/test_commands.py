"""The alert commands, run as a user runs them."""

from pathlib import Path

import pytest

from hub.cli import main


def test_rules_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'hub.sqlite3'}"]
    assert main(["locations", "add", "gate-a", "--tz", "Europe/Helsinki", *db]) == 0
    add = ["alerts", "rules", "add", "--location", "gate-a", "--kind", "negative_share"]
    assert (
        main([*add, "--threshold", "50", "--min-responses", "4", "--quiet", "22:00-06:00", *db])
        == 0
    )
    assert main([*add, "--threshold", "500", *db]) == 2  # refused, with the reason
    assert main(["alerts", "rules", "list", *db]) == 0
    out = capsys.readouterr()
    assert "negative >= 50 % in 15 min (at least 4 responses), quiet 22:00-06:00" in out.out
    assert "threshold must lie in 0..100" in out.err
    assert main(["alerts", "rules", "remove", "1", *db]) == 0
    assert main(["alerts", "list", "--state", "all", *db]) == 0
