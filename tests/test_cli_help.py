"""Every command of `seed-hub`, `seed-kiosk` and `seed-lab` answers `--help` (a stray % in a
help text made argparse raise instead)."""

import argparse
from collections.abc import Callable, Iterator

import pytest

from edge import cli as kiosk_cli
from hub import cli as hub_cli
from lab import cli as lab_cli


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*path, name))


PROGRAMS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "seed-hub": hub_cli._parser,
    "seed-kiosk": kiosk_cli._parser,
    "seed-lab": lab_cli._parser,
}
COMMANDS = [(program, path) for program, make in PROGRAMS.items() for path in _commands(make())]


@pytest.mark.parametrize(
    ("program", "path"), COMMANDS, ids=[" ".join((program, *path)) for program, path in COMMANDS]
)
def test_every_command_answers_help(
    program: str, path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        PROGRAMS[program]().parse_args([*path, "--help"])
    assert exited.value.code == 0
    assert "usage:" in capsys.readouterr().out
