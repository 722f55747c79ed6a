"""Download the face detector a kiosk's camera needs, pinned by sha256.

MediaPipe wheels since 0.10.30 ship no model files, so a kiosk fetches BlazeFace short range
(face_detection_short_range.tflite, Apache-2.0) once, into the project's models/ folder (or
--dest). A download whose sha256 differs from the pinned one is refused and nothing is kept;
the file appears only complete (written aside, then renamed).

    python scripts/fetch_models.py                         # into models/
    python scripts/fetch_models.py --dest /opt/seed/models
    python scripts/fetch_models.py --url https://mirror.example/face_detection_short_range.tflite
"""

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from edge.camera.paths import DETECTOR_FILE, DETECTOR_SHA256, DETECTOR_URL, PROJECT_MODELS_DIR

CHUNK = 64 * 1024
TIMEOUT_S = 60


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def progress_printer(name: str) -> Callable[[int, int | None], None]:
    """Prints every tenth of the way (or every MiB when the size is unknown) to stderr."""
    shown = -1

    def show(done: int, total: int | None) -> None:
        nonlocal shown
        step = done * 10 // total if total else done // (1024 * 1024)
        if step != shown:
            shown = step
            of = f" of {total / 1024:.0f} kB ({100 * done // total} %)" if total else ""
            print(f"  {name}: {done / 1024:.0f} kB{of}", file=sys.stderr)

    return show


def copy_hashing(
    response: BinaryIO, out: BinaryIO, total: int | None, show: Callable[[int, int | None], None]
) -> str:
    digest, done = hashlib.sha256(), 0
    while chunk := response.read(CHUNK):
        out.write(chunk)
        digest.update(chunk)
        done += len(chunk)
        show(done, total)
    return digest.hexdigest()


def fetch(url: str, target: Path, sha256: str) -> None:
    """Download `url` to `target` if its sha256 is `sha256`; raise ValueError otherwise."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = tempfile.NamedTemporaryFile(  # noqa: SIM115 (renamed or removed below)
        dir=target.parent, prefix=f".{target.name}.", suffix=".partial", delete=False
    )
    try:
        with partial, urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            actual = copy_hashing(
                response, partial, int(length) if length else None, progress_printer(target.name)
            )
            partial.flush()
            os.fsync(partial.fileno())
        if actual != sha256:
            raise ValueError(
                f"refused {url}: its sha256 is {actual}, the pinned one is {sha256}; "
                "nothing was written"
            )
        os.replace(partial.name, target)
    finally:
        Path(partial.name).unlink(missing_ok=True)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def parser() -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(
        prog="fetch_models.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    arguments.add_argument(
        "--dest",
        type=Path,
        default=PROJECT_MODELS_DIR,
        help=f"folder to put {DETECTOR_FILE} in (default: {PROJECT_MODELS_DIR}); the kiosk "
        "also looks in $SEED_MODELS_DIR, or camera.detector_model in its config",
    )
    arguments.add_argument(
        "--url", default=DETECTOR_URL, help=f"where to download from (default: {DETECTOR_URL})"
    )
    arguments.add_argument(
        "--force", action="store_true", help="download again even if a good copy is there"
    )
    return arguments


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    target = args.dest / DETECTOR_FILE
    if not args.force and target.is_file() and sha256_of(target) == DETECTOR_SHA256:
        print(f"{target}: already there, sha256 matches")
        return 0
    print(f"downloading {args.url}", file=sys.stderr)
    try:
        fetch(args.url, target, DETECTOR_SHA256)
    except ValueError as exc:
        print(f"fetch_models: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"fetch_models: cannot download {args.url}: {exc}", file=sys.stderr)
        return 1
    print(f"{target}: downloaded, sha256 {DETECTOR_SHA256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
