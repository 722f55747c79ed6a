"""Commands that moved to `seed-lab`, kept in `seed-hub` and `seed-kiosk` for one release.

Each alias says where its command moved, then runs the lab's command with the same
arguments. The lab is imported only then: it is installed apart (`pip install -e ./lab`,
which `make` does), never on a kiosk or a hub. This module goes in the next release.
"""

import argparse
import functools
import sys
from collections.abc import Sequence
from typing import Any

LAB = "seed-lab"
NOTHING_IS_AN_OPTION = "\0"  # an alias's prefix_chars: every argument is the lab's, as it is
MOVED: dict[str, dict[str, str]] = {
    # program -> command -> its subcommands, for the help text
    "seed-hub": {"bench": "ingest, reports, flood, cusum", "soak": "", "chaos": ""},
    "seed-kiosk": {"bench": "camera, press", "eval-model": ""},
}


class _Forward(argparse.Action):
    """Keeps every argument for the lab; a lone `-h`/`--help` says where the command moved."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        arguments = [str(value) for value in values or ()]
        if arguments in (["-h"], ["--help"]):
            parser.print_help()
            parser.exit()
        setattr(namespace, self.dest, arguments)


def add_lab_aliases(commands: Any, program: str) -> None:
    """`program`'s aliases (commands: argparse's private _SubParsersAction)."""
    for name, subcommands in MOVED[program].items():
        which = f" ({subcommands})" if subcommands else ""
        alias = commands.add_parser(
            name,
            help=f"moved to `{LAB} {name}`{which}; an alias for this release",
            description=f"`{program} {name}` moved to `{LAB} {name}`{which}. This alias runs "
            f"it with the same arguments, and goes in the next release; `{LAB} {name} "
            "--help` lists them.",
            prefix_chars=NOTHING_IS_AN_OPTION,
            add_help=False,
        )
        alias.add_argument(
            "lab_arguments",
            nargs=argparse.REMAINDER,
            action=_Forward,
            metavar="ARGUMENTS",
            help=f"what `{LAB} {name}` takes",
        )
        alias.set_defaults(run=functools.partial(run_in_lab, program, name))


def run_in_lab(program: str, name: str, args: argparse.Namespace) -> int:
    """Say where `program name …` moved, then run `seed-lab name …`; 2 without the lab."""
    arguments: list[str] = args.lab_arguments
    what = name
    if name == "bench" and arguments and not arguments[0].startswith("-"):
        what = f"{name} {arguments[0]}"  # `seed-hub bench ingest` moved to `seed-lab bench ingest`
    print(
        f"`{program} {what}` moved to `{LAB} {what}`; this alias goes in the next release",
        file=sys.stderr,
        flush=True,
    )
    try:
        from lab.cli import main  # noqa: PLC0415 (installed apart, and not on kiosks or hubs)
    except ModuleNotFoundError as exc:
        if exc.name not in ("lab", "lab.cli"):
            raise
        print(
            f"{program}: {LAB} is not installed; from a clone of the repository: "
            "pip install -e ./lab (make does it)",
            file=sys.stderr,
        )
        return 2
    level = getattr(args, "log_level", None)
    return main([*(["--log-level", level] if level else []), name, *arguments])
