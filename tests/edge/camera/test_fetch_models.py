"""scripts/fetch_models.py: the pinned detector from a local server, or a refusal."""

import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from edge.camera.paths import DETECTOR_FILE, DETECTOR_SHA256

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "fetch_models.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_models", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetch_models = load_script()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the test's stderr."""


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[bytes], str]]:
    """serve(content) -> the http:// URL of a file holding `content`."""
    folder = tmp_path / "served"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def url_of(content: bytes) -> str:
        (folder / DETECTOR_FILE).write_bytes(content)
        return f"http://127.0.0.1:{server.server_address[1]}/{DETECTOR_FILE}"

    yield url_of
    server.shutdown()
    server.server_close()


def test_the_pinned_file_is_downloaded_with_progress(
    serve: Callable[[bytes], str],
    detector_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dest = tmp_path / "models"
    url = serve(detector_model.read_bytes())

    assert fetch_models.main(["--url", url, "--dest", str(dest)]) == 0

    assert fetch_models.sha256_of(dest / DETECTOR_FILE) == DETECTOR_SHA256
    assert os.listdir(dest) == [DETECTOR_FILE]
    output = capsys.readouterr()
    assert "224 kB of 224 kB (100 %)" in output.err
    assert "downloaded, sha256" in output.out
    assert fetch_models.main(["--url", url, "--dest", str(dest)]) == 0
    assert "already there" in capsys.readouterr().out


def test_a_file_url_works_too(detector_model: Path, tmp_path: Path) -> None:
    url = detector_model.as_uri()

    assert fetch_models.main(["--url", url, "--dest", str(tmp_path), "--force"]) == 0
    assert (tmp_path / DETECTOR_FILE).read_bytes() == detector_model.read_bytes()


def test_a_file_that_is_not_the_pinned_one_is_refused_and_nothing_is_kept(
    serve: Callable[[bytes], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "models"
    dest.mkdir()
    (dest / DETECTOR_FILE).write_bytes(b"an old, wrong copy")

    assert (
        fetch_models.main(["--url", serve(b"<html>captive portal</html>"), "--dest", str(dest)])
        == 1
    )

    assert "the pinned one is " + DETECTOR_SHA256 in capsys.readouterr().err
    assert os.listdir(dest) == [DETECTOR_FILE]
    assert (dest / DETECTOR_FILE).read_bytes() == b"an old, wrong copy"


def test_an_unreachable_url_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = (tmp_path / "nothing-here.tflite").as_uri()

    assert fetch_models.main(["--url", url, "--dest", str(tmp_path / "models")]) == 1
    assert "cannot download" in capsys.readouterr().err
    assert list((tmp_path / "models").iterdir()) == []


def test_help_says_what_where_and_how() -> None:
    root = SCRIPT.parents[1]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )

    for expected in ("sha256", "--dest", "--url", "--force", "SEED_MODELS_DIR", DETECTOR_FILE):
        assert expected in result.stdout
