"""`seed-kiosk`: run a kiosk, check its config, or evaluate and time its camera pipeline."""

import argparse
import json
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from edge import __version__
from edge.app import Kiosk
from edge.config import KioskConfig, load_config
from edge.selftest import Outcome, SelftestPlan, format_checks, run_selftest
from protocol.errors import SeedError
from protocol.logs import configure_logging


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

    manifest_help = "the emotion model's manifest (default: models/emotion26.json)"
    evaluate = commands.add_parser(
        "eval-model", help="the emotion model's accuracy and per-expression recall on face crops"
    )
    evaluate.add_argument(
        "--data", type=Path, required=True, help=".npz of face crops: images [N,H,W], labels"
    )
    evaluate.add_argument("--manifest", type=Path, help=manifest_help)
    evaluate.add_argument("--json", action="store_true", help="print JSON")

    bench = commands.add_parser(
        "bench",
        help="time the camera pipeline, or a press from button to LED and outbox, on this machine",
    )
    bench.add_argument("part", choices=["camera", "press"])
    bench.add_argument("--manifest", type=Path, help=manifest_help)
    bench.add_argument("--repeat", type=int, default=200, help="timed frames per measurement")
    bench.add_argument(
        "--faces", type=Path, help="FER2013-style .npz (default: $SEED_FER2013_DIR/val.npz)"
    )
    bench.add_argument("--detector", type=Path, help="face_detection_short_range.tflite")
    bench.add_argument("--json", action="store_true", help="print JSON")
    bench.add_argument("--presses", type=int, default=300, help="press: presses per round")
    bench.add_argument("--rounds", type=int, default=3, help="press: rounds (median, spread)")
    bench.add_argument(
        "--rss-seconds", type=float, default=20, help="press: how long the kiosk runs before RSS"
    )
    bench.add_argument(
        "--broker", metavar="URL", help="press: a broker to send to (default: none, offline)"
    )
    bench.add_argument("--no-camera", action="store_true", help="press: skip the camera's RSS")
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


def _camera_tool(args: argparse.Namespace) -> dict[str, Any]:
    """Imported here: the camera's libraries are an optional extra."""
    if args.command == "eval-model":
        from edge.camera.evaluate import evaluate_model  # noqa: PLC0415

        return evaluate_model(args.data, args.manifest)
    from edge.camera.bench import bench_camera  # noqa: PLC0415
    from edge.camera.faces import default_faces_file  # noqa: PLC0415

    return bench_camera(
        manifest=args.manifest,
        faces=args.faces or default_faces_file(),
        detector_model=args.detector,
        repeat=args.repeat,
    )


def _bench_press(args: argparse.Namespace) -> dict[str, Any]:
    from edge.bench_press import bench_press, camera_frames  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="seed-bench-faces-") as folder:
        frames = None if args.no_camera else camera_frames(Path(folder))
        return bench_press(
            presses=args.presses,
            rounds=args.rounds,
            rss_seconds=args.rss_seconds,
            broker=args.broker,
            camera_source=frames,
        )


def _print_results(results: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key}: {value}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(getattr(args, "log_level", "INFO"))
    try:
        if args.command == "check-config":
            print(load_config(args.config).model_dump_json(indent=2))
            return 0
        if args.command == "selftest":
            return _selftest(args)
        if args.command == "bench" and args.part == "press":
            _print_results(_bench_press(args), args.json)
            return 0
        if args.command in ("eval-model", "bench"):
            _print_results(_camera_tool(args), args.json)
            return 0
        return _run(args)
    except SeedError as exc:
        print(f"seed-kiosk: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
