"""`seed-lab`: benchmarks, the soak, chaos and the emotion model's evaluation, apart from
what ships to a kiosk or a hub."""

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from lab import __version__
from lab.flood import add_flood_bench
from lab.scratch_postgres import SCRATCH_POSTGRES_URL
from protocol.errors import ConfigError, SeedError
from protocol.logs import configure_logging

Commands = Any  # argparse's private _SubParsersAction
BACKENDS = ("sqlite", "postgresql")
MANIFEST_HELP = "the emotion model's manifest (default: models/emotion26.json)"


def _print_json_or_repr(result: dict[str, Any], as_json: bool) -> None:
    print(json.dumps(result, indent=2) if as_json else result)


def _print_lines(results: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key}: {value}")


def _bench_ingest(args: argparse.Namespace) -> int:
    from lab.ingest_bench import BenchPlan, run_ingest_bench  # noqa: PLC0415

    result = run_ingest_bench(
        BenchPlan(
            kiosks=args.kiosks,
            events_per_kiosk=args.events,
            backend=args.backend,
            postgres_url=args.postgres_url,
            workers=args.workers,
            rate_per_s=args.rate,
        )
    )
    _print_json_or_repr(result, args.json)
    return 0 if result["lost"] == 0 and result["duplicates"] == 0 else 1


def _bench_reports(args: argparse.Namespace) -> int:
    from lab.reports_bench import ReportsPlan, run_reports_bench  # noqa: PLC0415

    plan = ReportsPlan(
        events=args.events,
        backend=args.backend,
        postgres_url=args.postgres_url,
        requests=args.requests,
    )
    result = run_reports_bench(plan)
    _print_json_or_repr(result, args.json)
    return 1 if result["rollup_mismatches"] or result["reason_mismatches"] else 0


def _bench_phone(args: argparse.Namespace) -> int:
    from lab.phone_bench import PhonePlan, run_phone_bench  # noqa: PLC0415

    plan = PhonePlan(
        backend=args.backend,
        postgres_url=args.postgres_url,
        phones=args.phones,
        seconds=args.seconds,
        concurrent_writes=args.concurrent_writes,
        workers=args.workers,
    )
    result = run_phone_bench(plan)
    _print_json_or_repr(result, args.json)
    refused = result["errors"] or result["busy_503"] or result["limited_429"]
    return 1 if refused or not result["events_match"] else 0


def _bench_tasks(args: argparse.Namespace) -> int:
    from lab.tasks_bench import TasksPlan, run_tasks_bench  # noqa: PLC0415

    plan = TasksPlan(
        backend=args.backend,
        postgres_url=args.postgres_url,
        rounds=args.rounds,
        interval_s=args.interval,
    )
    result = run_tasks_bench(plan)
    _print_json_or_repr(result, args.json)
    return 1 if result["missing"] or result["failed"] else 0


def _bench_cusum(args: argparse.Namespace) -> int:
    from lab.cusum_bench import CusumBenchPlan, run_cusum_bench  # noqa: PLC0415

    plan = CusumBenchPlan(
        seeds=args.seeds,
        locations=args.locations,
        presses_per_hour=args.rate,
        p0=args.p0,
        drop_odds_ratio=args.drop,
        odds_ratio=args.odds_ratio,
        threshold=args.h,
    )
    _print_json_or_repr(run_cusum_bench(plan), args.json)
    return 0


def _bench_camera(args: argparse.Namespace) -> int:
    """Imported here: the camera's libraries are an optional extra."""
    from edge.camera.faces import default_faces_file  # noqa: PLC0415
    from lab.camera_bench import bench_camera  # noqa: PLC0415

    result = bench_camera(
        manifest=args.manifest,
        faces=args.faces or default_faces_file(),
        detector_model=args.detector,
        repeat=args.repeat,
    )
    _print_lines(result, args.json)
    return 0


def _bench_page(args: argparse.Namespace) -> int:
    from lab.page_bench import bench_page  # noqa: PLC0415 (selenium: dev)

    _print_lines(bench_page(presses=args.presses, rss_seconds=args.rss_seconds), args.json)
    return 0


def _bench_press(args: argparse.Namespace) -> int:
    from lab.press_bench import bench_press, camera_frames  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="seed-bench-faces-") as folder:
        frames = None if args.no_camera else camera_frames(Path(folder))
        result = bench_press(
            presses=args.presses,
            rounds=args.rounds,
            rss_seconds=args.rss_seconds,
            broker=args.broker,
            camera_source=frames,
        )
    _print_lines(result, args.json)
    return 0


def _eval_model(args: argparse.Namespace) -> int:
    from lab.camera_eval import evaluate_model  # noqa: PLC0415 (the camera extra)

    if args.robustness:
        return _eval_robustness(args)
    if args.conditions or args.examples:
        raise ConfigError("--conditions and --examples go with --robustness")
    _print_lines(evaluate_model(args.data, args.manifest, limit=args.limit), args.json)
    return 0


def _eval_robustness(args: argparse.Namespace) -> int:
    from lab.robustness import evaluate_robustness, markdown_table  # noqa: PLC0415

    result = evaluate_robustness(
        args.data,
        args.manifest,
        names=args.conditions,
        limit=args.limit,
        seed=args.seed,
        examples=args.examples,
    )
    print(json.dumps(result, indent=2) if args.json else "\n".join(markdown_table(result)))
    return 0


def _soak(args: argparse.Namespace) -> int:
    from lab.soak import SoakPlan, run_soak  # noqa: PLC0415

    plan = SoakPlan(
        events=args.events,
        kiosks=args.kiosks,
        window=args.window,
        backend=args.backend,
        postgres_url=args.postgres_url,
    )
    result = run_soak(plan)
    _print_json_or_repr(result, args.json)
    growth = result["hub_memory"]["growth"]
    failed = result["lost"] or result["duplicated"] or result["unexpected"]
    return 1 if failed or result["rollup_mismatch"] or (growth or 0) > 0.10 else 0


def _chaos(args: argparse.Namespace) -> int:
    from lab.chaos.checker import poison_slowed_ingest  # noqa: PLC0415
    from lab.chaos.scenario import ChaosPlan, run_chaos  # noqa: PLC0415 (the kiosk extra)

    plan = ChaosPlan(
        faults=tuple(args.faults),
        kiosks=args.kiosks,
        presses=args.presses,
        rate_per_s=args.rate,
        backend=args.backend,
    )
    verdict = run_chaos(plan, workdir=args.keep)
    _print_json_or_repr(verdict, args.json)
    failed = verdict["lost"] or verdict["duplicated"] or verdict["unexpected"]
    return 1 if failed or verdict["rollup_mismatch"] or poison_slowed_ingest(verdict) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seed-lab", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("bench", help="benchmarks of the hub and the kiosk")
    bench_commands = bench.add_subparsers(dest="benchmark", required=True)
    for add_benches in (_add_hub_benches, _add_kiosk_benches):
        add_benches(bench_commands)
    for add_commands in (_add_eval_model, _add_soak, _add_chaos):
        add_commands(commands)
    return parser


def _add_hub_benches(bench_commands: Commands) -> None:
    ingest = bench_commands.add_parser(
        "ingest", help="events stored and acknowledged per second vs a bare subscriber"
    )
    ingest.add_argument("--json", action="store_true")
    ingest.add_argument("--backend", choices=BACKENDS, default="sqlite")
    ingest.add_argument("--postgres-url", default=SCRATCH_POSTGRES_URL)
    ingest.add_argument("--kiosks", type=int, default=8)
    ingest.add_argument("--events", type=int, default=2500, help="events per kiosk")
    ingest.add_argument(
        "--workers", type=int, default=1, help="hub ingest processes on one shared subscription"
    )
    ingest.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="events per second per kiosk, for latency at a steady load "
        "(default: as fast as they can, a backlog draining)",
    )
    ingest.set_defaults(run=_bench_ingest)
    add_flood_bench(bench_commands)
    reports = bench_commands.add_parser(
        "reports", help="dashboard views timed over HTTP on a year of simulated responses"
    )
    reports.add_argument("--json", action="store_true")
    reports.add_argument("--backend", choices=BACKENDS, default="sqlite")
    reports.add_argument("--postgres-url", default=SCRATCH_POSTGRES_URL)
    reports.add_argument("--events", type=int, default=20_000, help="responses in all")
    reports.add_argument("--requests", type=int, default=30, help="timed requests per view")
    reports.set_defaults(run=_bench_reports)
    phone = bench_commands.add_parser(
        "phone", help="the phone survey under many phones, and the dashboard's overview meanwhile"
    )
    phone.add_argument("--json", action="store_true")
    phone.add_argument("--backend", choices=BACKENDS, default="sqlite")
    phone.add_argument("--postgres-url", default=SCRATCH_POSTGRES_URL)
    phone.add_argument("--phones", type=int, default=50, help="phones walking the survey at once")
    phone.add_argument("--seconds", type=float, default=20, help="how long they walk it")
    phone.add_argument(
        "--concurrent-writes",
        type=int,
        metavar="K",
        help="the hub's SEED_HUB_PHONE_CONCURRENT_WRITES (default: its own, 8)",
    )
    phone.add_argument(
        "--workers", type=int, default=1, metavar="K", help="web processes sharing the port"
    )
    phone.set_defaults(run=_bench_phone)
    tasks = bench_commands.add_parser(
        "tasks",
        help="alert to staff notification: latency with 200 touchpoints and 20 teams",
    )
    tasks.add_argument("--json", action="store_true")
    tasks.add_argument("--backend", choices=BACKENDS, default="sqlite")
    tasks.add_argument("--postgres-url", default=SCRATCH_POSTGRES_URL)
    tasks.add_argument(
        "--rounds", type=int, default=5, help="batches the 200 touchpoints turn sour in"
    )
    tasks.add_argument(
        "--interval", type=float, default=2.0, metavar="S", help="how often alert rules run"
    )
    tasks.set_defaults(run=_bench_tasks)
    cusum = bench_commands.add_parser(
        "cusum", help="CUSUM detection delay and false alarms on simulated locations"
    )
    cusum.add_argument("--json", action="store_true")
    cusum.add_argument("--seeds", type=int, default=10)
    cusum.add_argument("--locations", type=int, default=50, help="location-weeks per seed")
    cusum.add_argument("--rate", type=float, default=20, help="presses per hour")
    cusum.add_argument("--p0", type=float, default=0.2, help="the baseline unhappy share")
    cusum.add_argument("--drop", type=float, default=2.0, help="odds ratio of the real drop")
    cusum.add_argument("--odds-ratio", type=float, default=2.0, help="the shift the chart seeks")
    cusum.add_argument("--h", type=float, default=4.0, help="the decision threshold")
    cusum.set_defaults(run=_bench_cusum)


def _add_kiosk_benches(bench_commands: Commands) -> None:
    camera = bench_commands.add_parser(
        "camera", help="the camera pipeline's milliseconds per frame on one thread"
    )
    camera.add_argument("--manifest", type=Path, help=MANIFEST_HELP)
    camera.add_argument("--repeat", type=int, default=200, help="timed frames per measurement")
    camera.add_argument(
        "--faces", type=Path, help="FER2013-style .npz (default: $SEED_FER2013_DIR/val.npz)"
    )
    camera.add_argument("--detector", type=Path, help="face_detection_short_range.tflite")
    camera.add_argument("--json", action="store_true", help="print JSON")
    camera.set_defaults(run=_bench_camera)

    press = bench_commands.add_parser(
        "press", help="a press from button to LED and outbox, and the kiosk's memory"
    )
    press.add_argument("--presses", type=int, default=300, help="presses per round")
    press.add_argument("--rounds", type=int, default=3, help="rounds (median, spread)")
    press.add_argument(
        "--rss-seconds", type=float, default=20, help="how long the kiosk runs before RSS"
    )
    press.add_argument("--broker", metavar="URL", help="a broker to send to (default: offline)")
    press.add_argument("--no-camera", action="store_true", help="skip the camera's RSS")
    press.add_argument("--json", action="store_true", help="print JSON")
    press.set_defaults(run=_bench_press)

    page = bench_commands.add_parser(
        "page", help="the kiosk page: a press to its follow-up on screen, weight, memory"
    )
    page.add_argument("--presses", type=int, default=200, help="presses timed")
    page.add_argument(
        "--rss-seconds", type=float, default=15, help="how long the page is served before RSS"
    )
    page.add_argument("--json", action="store_true", help="print JSON")
    page.set_defaults(run=_bench_page)


def _add_eval_model(commands: Commands) -> None:
    evaluate = commands.add_parser(
        "eval-model",
        help="the emotion model's accuracy and per-expression recall on face crops",
        description="The emotion model's accuracy, mean recall over expressions and recall "
        "per expression on labelled face crops, through the kiosk's own classifier. With "
        "--robustness, the same under each condition (rotated, darker, lower resolution, "
        "blurred, noisy, JPEG, glasses, a mask), with the drops from the clean faces: "
        "progress on stderr, a markdown table (or JSON) on stdout.",
    )
    evaluate.add_argument(
        "--data", type=Path, required=True, help=".npz of face crops: images [N,H,W], labels"
    )
    evaluate.add_argument("--manifest", type=Path, help=MANIFEST_HELP)
    evaluate.add_argument("--limit", type=int, metavar="N", help="only the first N faces")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    robustness = evaluate.add_argument_group("robustness")
    robustness.add_argument(
        "--robustness", action="store_true", help="score the faces under each condition"
    )
    robustness.add_argument(
        "--conditions",
        type=lambda names: [name.strip() for name in names.split(",") if name.strip()],
        metavar="A,B",
        help="only these conditions (clean is always scored, as the baseline): clean, "
        "rotate_15, rotate_30, dark_50, dark_gamma_2, low_contrast_50, lowres_24, lowres_16, "
        "lowres_12, blur_1.5, noise_0.08, jpeg_20, glasses, mask (default: all)",
    )
    robustness.add_argument(
        "--seed", type=int, default=0, help="seed of the random parts (noise, rotation sides)"
    )
    robustness.add_argument(
        "--examples",
        type=Path,
        metavar="PNG",
        help="also draw each condition's first faces into this PNG",
    )
    evaluate.set_defaults(run=_eval_model)


def _add_soak(commands: Commands) -> None:
    soak = commands.add_parser(
        "soak", help="a long run through Mosquitto and the hub; throughput, memory, verdict"
    )
    soak.add_argument("--json", action="store_true")
    soak.add_argument("--events", type=int, default=1_000_000)
    soak.add_argument("--kiosks", type=int, default=200)
    soak.add_argument("--window", type=int, default=50, help="unacknowledged events per kiosk")
    soak.add_argument("--backend", choices=BACKENDS, default="sqlite")
    soak.add_argument("--postgres-url", default=SCRATCH_POSTGRES_URL)
    soak.set_defaults(run=_soak)


def _add_chaos(commands: Commands) -> None:
    chaos = commands.add_parser(
        "chaos", help="kiosks and hub as processes under injected faults; Jepsen-style verdict"
    )
    chaos.add_argument("--json", action="store_true")
    chaos.add_argument(
        "--faults",
        nargs="+",
        default=["all"],
        metavar="FAULT",
        help="poison broker-restart broker-kill hub-kill kiosk-kill partition lossy-link, and "
        "database-locked (sqlite) or database-restart database-kill (postgresql); "
        "or all (default), one after another",
    )
    chaos.add_argument(
        "--backend",
        choices=BACKENDS,
        default="sqlite",
        help="the hub's database: a SQLite file, or a private PostgreSQL server the run starts",
    )
    chaos.add_argument("--kiosks", type=int, default=3)
    chaos.add_argument("--presses", type=int, default=1500, help="presses per kiosk")
    chaos.add_argument("--rate", type=float, default=30.0, help="presses per second per kiosk")
    chaos.add_argument(
        "--keep", type=Path, metavar="DIR", help="keep logs, ledgers and the database in DIR"
    )
    chaos.set_defaults(run=_chaos)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.log_level, quiet=("amqtt", "transitions", "alembic"))
    try:
        code: int = args.run(args)
    except SeedError as exc:
        print(f"seed-lab: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
