"""`seed-kiosk`: run a kiosk, check its config, or test its buttons, LEDs and broker."""

import argparse
import signal
import sys
import threading
from pathlib import Path

from edge import __version__
from edge.app import Kiosk
from edge.config import KioskConfig, load_config
from edge.selftest import Outcome, SelftestPlan, format_checks, run_selftest
from protocol.errors import SeedError
from protocol.lab_aliases import MOVED, add_lab_aliases
from protocol.logs import configure_logging

MOVED_TO_LAB = MOVED["seed-kiosk"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seed-kiosk", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the kiosk until stopped (SIGINT/SIGTERM)")
    run.add_argument("--config", type=Path, required=True, help="the kiosk's TOML file")
    run.add_argument(
        "--simulate",
        action="store_true",
        help="no Pi: gpiozero mock pins, presses from a realistic daily pattern",
    )
    run.add_argument("--broker", metavar="URL", help="override mqtt.url, e.g. mqtt://hub:1883")
    run.add_argument("--speed", type=float, help="override simulation.speed (press rate x)")
    run.add_argument("--duration", type=float, metavar="S", help="stop by itself after S s")
    run.add_argument("--log-level", default="INFO")

    check = commands.add_parser("check-config", help="validate a kiosk config and print it")
    check.add_argument("config", type=Path)

    selftest = commands.add_parser(
        "selftest",
        help="check LEDs, buttons, broker, ACL and clock; non-zero exit on a failure",
        description="Stop the kiosk service first (systemctl stop seed-kiosk): the test needs "
        "the GPIO pins. Broker checks use the kiosk's own credentials.",
    )
    selftest.add_argument("--config", type=Path, required=True, help="the kiosk's TOML file")
    selftest.add_argument(
        "--no-interactive", action="store_true", help="no questions: drive LEDs, skip buttons"
    )
    selftest.add_argument("--timeout", type=float, default=30, help="seconds per button press")

    add_lab_aliases(commands, parser.prog)  # bench, eval-model: for one release
    return parser


def _with_overrides(config: KioskConfig, args: argparse.Namespace) -> KioskConfig:
    if args.broker:
        mqtt = config.mqtt.model_validate({**config.mqtt.model_dump(), "url": args.broker})
        config = config.model_copy(update={"mqtt": mqtt})
    if args.speed:
        simulation = config.simulation.model_copy(update={"speed": args.speed})
        config = config.model_copy(update={"simulation": simulation})
    return config


def _run(args: argparse.Namespace) -> int:
    config = _with_overrides(load_config(args.config), args)
    kiosk = Kiosk(config, simulate=args.simulate)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    kiosk.start()
    try:
        stop.wait(args.duration)
    finally:
        kiosk.stop()
    return 0


def _selftest(args: argparse.Namespace) -> int:
    plan = SelftestPlan(interactive=not args.no_interactive, button_timeout_s=args.timeout)
    checks = run_selftest(load_config(args.config), plan)
    print(format_checks(checks))
    return 1 if any(check.outcome is Outcome.FAIL for check in checks) else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in MOVED_TO_LAB:
        code: int = args.run(args)  # the lab sets its own logging up
        return code
    configure_logging(getattr(args, "log_level", "INFO"))
    try:
        if args.command == "check-config":
            print(load_config(args.config).model_dump_json(indent=2))
            return 0
        if args.command == "selftest":
            return _selftest(args)
        return _run(args)
    except SeedError as exc:
        print(f"seed-kiosk: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
