"""The team and task commands, run as a user runs them, on a SQLite file."""

import json
from pathlib import Path

import pytest

from hub.cli import main

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    db = ["--db", f"sqlite:///{tmp_path / 'hub.sqlite3'}"]
    assert (
        main(["locations", "add", "gate-a", "--name", "Gate A", "--tz", "Europe/Helsinki", *db])
        == 0
    )
    return db


def test_a_team_is_set_up_shown_and_removed(db: list[str], capsys: Capture) -> None:
    add = ["teams", "add", "cleaning", "--name", "Cleaning T2", "--location", "gate-a"]
    assert main([*add, "--hours", "06:00-22:00", "--ack-minutes", "10", *db]) == 0
    assert main([*add, *db]) == 2  # the id is taken
    member = ["teams", "member-add", "cleaning", "--name", "Aino"]
    assert main([*member, "--route", "email", "--target", "aino@example.org", *db]) == 0
    secret = "https://hooks.slack.com/services/T000/B000/s3cretXYZ"
    assert main([*member, "--route", "slack", "--target", secret, "--escalation", *db]) == 0
    assert main([*member, "--route", "slack", "--target", "not a url", *db]) == 2
    assert main(["teams", "show", "cleaning", *db]) == 0
    assert main(["teams", "list", "--json", *db]) == 0
    out = capsys.readouterr()
    assert "a slack route needs an http" in out.err
    assert "a team 'cleaning' exists" in out.err
    assert "06:00-22:00" in out.out
    assert "https://hooks.slack.com/…" in out.out
    assert "s3cret" not in out.out
    listed = json.loads(out.out[out.out.index("[") :])
    assert listed[0]["ack_minutes"] == 10
    assert [(m["role"], m["route"]) for m in listed[0]["members"]] == [
        ("member", "email"),
        ("escalation", "slack"),
    ]
    assert main(["teams", "member-remove", "1", *db]) == 0
    assert main(["teams", "member-remove", "1", *db]) == 2
    assert main(["teams", "rules", "cleaning", "--rule", "7", *db]) == 2  # no such rule
    assert main(["teams", "remove", "cleaning", *db]) == 0
    assert main(["teams", "show", "cleaning", *db]) == 2
    err = capsys.readouterr().err
    assert "no alert rule 7; see `seed-hub alerts rules list`" in err
    assert "no team 'cleaning'; see `seed-hub teams list`" in err


def test_a_task_is_opened_acknowledged_noted_resolved_and_counted(
    db: list[str], capsys: Capture
) -> None:
    assert (
        main(["teams", "add", "cleaning", "--name", "Cleaning", "--location", "gate-a", *db]) == 0
    )
    assert (
        main(
            [
                "teams",
                "member-add",
                "cleaning",
                "--name",
                "Aino",
                "--route",
                "mqtt",
                "--target",
                "t2",
                *db,
            ]
        )
        == 0
    )
    opening = ["tasks", "open", "--team", "cleaning", "--location", "gate-a"]
    assert main([*opening, "--title", "Bins full", *db]) == 0
    assert main([*opening, "--title", "", *db]) == 2
    assert main(["tasks", "ack", "1", "--note", "on my way", *db]) == 0
    assert main(["tasks", "note", "1", "new bags fetched", *db]) == 0
    assert main(["tasks", "list", *db]) == 0
    out = capsys.readouterr()
    assert "task 1 opened for cleaning at gate-a" in out.out
    assert "a task needs a title" in out.err
    assert "acknowledged" in out.out.splitlines()[-1]
    assert main(["tasks", "resolve", "1", "--note", "emptied", *db]) == 0
    assert main(["tasks", "ack", "1", *db]) == 2
    assert main(["tasks", "show", "1", *db]) == 0
    out = capsys.readouterr()
    assert "task 1 is resolved already" in out.err
    history = out.out[out.out.index("history:") :].splitlines()[1:]
    assert [line.split()[3].rstrip(":") for line in history] == [
        "opened",
        "acknowledged",
        "note",
        "resolved",
    ]
    assert "emptied" in history[-1]
    assert main(["tasks", "list", "--state", "resolved", "--json", *db]) == 0
    assert main(["tasks", "list", "--team", "nobody", *db]) == 2
    assert main(["tasks", "list", "--limit", "0", *db]) == 2
    out = capsys.readouterr()
    [task] = json.loads(out.out)
    assert "no team 'nobody'" in out.err
    assert "--limit: 1 to 10000, not 0" in out.err
    assert (task["id"], task["state"], task["resolved_by"]) == (1, "resolved", "cli")
    assert main(["tasks", "figures", "--json", *db]) == 0
    assert main(["tasks", "figures", "--days", "0", *db]) == 2
    out = capsys.readouterr()
    rows = json.loads(out.out)
    assert [(r["location_id"], r["tasks"], r["resolved"]) for r in rows] == [
        ("gate-a", 1, 1),
        (None, 1, 1),
    ]
    assert "--days: 1 to 366, not 0" in out.err
    assert main(["tasks", "show", "99", *db]) == 2
    assert "no task 99" in capsys.readouterr().err
