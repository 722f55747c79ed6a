"""`seed-hub bench|soak|chaos` and `seed-kiosk bench|eval-model` moved to `seed-lab`: for one
release the old commands say so, then run the lab's with the same arguments."""

import json
import sys

import pytest

from edge.cli import main as kiosk_main
from hub.cli import main as hub_main


def test_an_alias_says_where_the_command_moved_and_runs_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = hub_main(
        ["--log-level", "WARNING", "bench", "cusum", "--json", "--seeds", "1", "--locations", "2"]
    )

    assert code == 0
    out, err = capsys.readouterr()
    assert (
        "`seed-hub bench cusum` moved to `seed-lab bench cusum`; this alias goes in the next "
        "release" in err
    )
    result = json.loads(out)
    assert result["plan"]["seeds"] == 1 and result["plan"]["locations"] == 2


def test_options_before_anything_else_reach_the_lab_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        hub_main(["soak", "--json", "--help"])  # argparse would take --json as seed-hub's

    assert exited.value.code == 0
    out, err = capsys.readouterr()
    assert "`seed-hub soak` moved to `seed-lab soak`" in err
    assert out.startswith("usage: seed-lab soak")


def test_a_kiosk_alias_hands_over_to_the_lab_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        kiosk_main(["bench", "camera", "--help"])

    assert exited.value.code == 0
    out, err = capsys.readouterr()
    assert "`seed-kiosk bench camera` moved to `seed-lab bench camera`" in err
    assert out.startswith("usage: seed-lab bench camera")


def test_an_alias_alone_with_help_answers_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        kiosk_main(["eval-model", "--help"])

    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: seed-kiosk eval-model")
    assert "moved to `seed-lab eval-model`" in out


def test_without_the_lab_an_alias_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "lab.cli", None)  # what an import finds with no lab

    assert hub_main(["chaos", "--faults", "poison"]) == 2
    err = capsys.readouterr().err
    assert "`seed-hub chaos` moved to `seed-lab chaos`" in err
    assert "seed-lab is not installed" in err and "pip install -e ./lab" in err
