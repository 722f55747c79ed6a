"""`seed-hub camera …` and `devices configure --camera` as a technician and a DPO type them."""

import csv
import io
import json
import os
import pwd
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.camera.commands import cli_actor
from hub.cli import _parser, main

Run = Callable[..., tuple[int, str, str]]
ACTOR = cli_actor()
APPROVE = [
    *("camera", "approve", "hel"),
    *("--approved-by", "Dr. Data"),
    *("--impact-assessment", "DPIA-2026-07"),
    *("--approved-on", "2026-11-02"),
    *("--deployer", "Helsinki Airport Oy"),
    *("--contact", "privacy@airport.example"),
    *("--legal-basis", "GDPR Art. 6(1)(f)"),
]


@pytest.fixture
def seed_hub(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    """seed_hub(*argv) -> (exit code, stdout, stderr), on one database."""
    monkeypatch.setenv("SEED_HUB_DATA_DIR", str(tmp_path))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--db", sqlite_url])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _kiosks(seed_hub: Run) -> None:
    """k1 at hel's gate, k2 at its staff room (a workplace)."""
    assert seed_hub("devices", "add", "k1", "--site", "hel", "--location", "hel-gate")[0] == 0
    assert seed_hub("devices", "add", "k2", "--site", "hel", "--location", "hel-staff")[0] == 0
    code, out, _ = seed_hub(
        "locations", "add", "hel-staff", "--tz", "UTC", "--audience", "employees"
    )
    assert code == 0 and "audience: employees" in out


def test_a_camera_goes_on_after_an_approval_and_off_when_staff_answer_there(
    seed_hub: Run,
) -> None:
    _kiosks(seed_hub)
    code, _, err = seed_hub("devices", "configure", "k1", "--camera", "on")
    assert code == 2 and "no camera approval covers hel-gate" in err
    assert "seed-hub camera approve hel-gate --approved-by" in err
    code, out, _ = seed_hub(*APPROVE)
    assert code == 0 and "approval 1 recorded for hel" in out
    code, _, err = seed_hub("devices", "configure", "k2", "--camera", "on")
    assert code == 2 and "Art. 5(1)(f)" in err and "at workplaces" in err
    code, out, _ = seed_hub("devices", "configure", "k1", "--camera", "on", "--reason", "pilot")
    assert code == 0 and '"camera_enabled": true' in out

    code, out, _ = seed_hub("camera", "status", "--json")
    states = {s["device_id"]: s for s in json.loads(out)}
    assert (states["k1"]["desired"], states["k1"]["approval_id"], states["k1"]["refused"]) == (
        True,
        1,
        None,
    )
    assert states["k2"]["audience"] == "employees" and "Art. 5(1)(f)" in states["k2"]["refused"]
    code, out, _ = seed_hub("camera", "status", "hel-gate")
    assert code == 0 and "k1" in out and "k2" not in out and "allowed" in out

    code, out, _ = seed_hub("camera", "audience", "hel", "employees")
    assert code == 0 and "cameras turned off: k1" in out
    code, out, _ = seed_hub("camera", "log", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["action"], r["device_id"], r["location_id"]) for r in rows] == [
        ("audience", "-", "hel-staff"),
        ("approve", "-", "hel"),
        ("on", "k1", "hel-gate"),
        ("audience", "-", "hel"),
        ("off", "k1", "hel-gate"),
    ]
    assert {r["actor"] for r in rows} == {ACTOR}
    assert rows[1]["reason"].startswith("approval 1 recorded: DPIA-2026-07 approved by Dr. Data")
    assert rows[2]["reason"] == "pilot" and rows[2]["approval_id"] == "1"
    assert rows[3]["reason"] == "audience at hel set to employees (was public)"
    assert rows[4]["reason"].startswith("audience changed to employees: the AI Act")
    assert [r["prev_sha256"] for r in rows[1:]] == [r["entry_sha256"] for r in rows[:-1]]
    code, out, _ = seed_hub("camera", "log", "--verify")
    newest = rows[-1]["entry_sha256"]
    assert code == 0 and f"the chain holds: 5 entries, the newest's sha256 {newest}" in out


def test_the_log_is_filtered_and_exported_as_json(seed_hub: Run) -> None:
    _kiosks(seed_hub)
    seed_hub(*APPROVE)
    seed_hub("devices", "configure", "k1", "--camera", "on")
    seed_hub("devices", "configure", "k1", "--camera", "default")
    code, out, _ = seed_hub("camera", "log", "--json", "--device", "k1", "--location", "hel")
    entries = json.loads(out)
    assert [e["action"] for e in entries] == ["on", "default"]
    assert entries[0]["reason"] == "approved: DPIA-2026-07 by Dr. Data"
    assert len(entries[0]["model_sha256"]) == 64
    assert json.loads(seed_hub("camera", "log", "--json", "--device", "k2")[1]) == []
    assert json.loads(seed_hub("camera", "log", "--json", "--since", "2100-01-01")[1]) == []
    code, out, _ = seed_hub("camera", "log")
    assert code == 0 and "on       k1" in out and "DPIA-2026-07" in out
    assert "default  k1" in out and "approve  -" in out
    code, _, err = seed_hub("camera", "log", "--location", "nowhere")
    assert code == 2 and "no location 'nowhere'" in err
    code, _, err = seed_hub("camera", "log", "--verify", "--device", "k1")
    assert code == 2 and "--verify checks the whole log" in err


def test_the_camera_left_to_the_kiosks_file_is_refused_at_a_workplace(seed_hub: Run) -> None:
    _kiosks(seed_hub)
    seed_hub(*APPROVE)
    code, _, err = seed_hub("devices", "configure", "k2", "--camera", "default")
    assert code == 2 and "at workplaces" in err
    assert seed_hub("devices", "configure", "k1", "--camera", "off")[0] == 0
    code, out, _ = seed_hub("devices", "configure", "k1", "--camera", "default")
    assert code == 0 and "camera_enabled" not in out
    code, out, _ = seed_hub("camera", "log", "--json", "--device", "k1")
    assert [(e["action"], e["reason"]) for e in json.loads(out)] == [
        ("default", f"left to the kiosk's own file by {ACTOR}")
    ]


def test_the_actor_is_the_login_not_what_the_environment_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    try:
        login = os.getlogin()
    except OSError:
        login = pwd.getpwuid(os.getuid()).pw_name
    for variable in ("USER", "LOGNAME", "LNAME", "USERNAME"):
        monkeypatch.setenv(variable, "mallory")
    assert cli_actor() == f"cli:{login}" != "cli:mallory"


def test_approvals_are_listed_and_withdrawn(seed_hub: Run) -> None:
    _kiosks(seed_hub)
    seed_hub(*APPROVE)
    seed_hub("devices", "configure", "k1", "--camera", "on")
    (approval,) = json.loads(seed_hub("camera", "approvals", "hel-gate", "--json")[1])
    assert approval["approved_by"] == "Dr. Data" and approval["withdrawn_at"] is None
    code, out, _ = seed_hub("camera", "withdraw", "1")
    assert code == 0 and "approval 1 withdrawn; cameras turned off: k1" in out
    code, out, _ = seed_hub("camera", "approvals")
    assert code == 0 and "WITHDRAWN" in out and "DPIA-2026-07" in out
    code, _, err = seed_hub("camera", "withdraw", "1")
    assert code == 2 and "withdrawn already" in err
    code, _, err = seed_hub(*APPROVE[:-2], "--legal-basis", " ")
    assert code == 2 and "the legal basis: give 1 to 300 characters" in err


def test_a_place_without_a_camera_gets_no_notice_and_one_with_gets_a_pdf(
    seed_hub: Run, tmp_path: Path
) -> None:
    _kiosks(seed_hub)
    out = tmp_path / "notice.pdf"
    code, _, err = seed_hub("camera", "notice", "hel-gate", "--out", str(out))
    assert code == 2 and "no camera approval" in err and not out.exists()
    seed_hub(*APPROVE)
    code, printed, _ = seed_hub("camera", "notice", "hel-gate", "--out", str(out), "--size", "A5")
    assert code == 0 and str(out) in printed
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("path", "promised"),
    [
        (["camera"], ["approve", "audience", "log", "status", "notice", "Art. 5(1)(f)"]),
        (
            ["camera", "approve"],
            ["--approved-by", "--impact-assessment", "YYYY-MM-DD", "--deployer", "--contact"],
        ),
        (
            ["camera", "log"],
            ["--since", "--until", "--device", "--location", "--csv", "--json", "--verify"],
        ),
        (["camera", "audience"], ["public", "employees", "education"]),
        (["devices", "configure"], ["--reason", "approval", "audit log"]),
        (["locations", "add"], ["--audience", "employees"]),
    ],
)
def test_the_help_says_what_each_command_takes(
    path: list[str], promised: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args([*path, "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere
    for word in promised:
        assert word in text, word
