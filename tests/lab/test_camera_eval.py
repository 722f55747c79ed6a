"""`seed-lab eval-model` and `seed-lab bench camera`, on real FER2013 faces."""

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest

from lab.cli import main
from protocol.emotions import EXPRESSIONS
from tests.edge.camera.tiny_model import write_model

SAMPLE = 300


@pytest.fixture(scope="module")
def fer_sample(fer_val_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first faces of val.npz, in its layout."""
    path = tmp_path_factory.mktemp("fer") / "sample.npz"
    with np.load(fer_val_file) as data:
        np.savez(
            path,
            images=data["images"][:SAMPLE],
            labels=data["labels"][:SAMPLE],
            classes=data["classes"],
        )
    return path


def json_output(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(list(argv)) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_eval_model_reports_accuracy_and_recall_per_expression(
    fer_sample: Path, tiny_manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = json_output(
        capsys, "eval-model", "--data", str(fer_sample), "--manifest", str(tiny_manifest), "--json"
    )

    # the same figures, straight from ONNX Runtime and numpy
    with np.load(fer_sample) as data:
        images: npt.NDArray[np.uint8] = data["images"]
        labels = data["labels"]
    x = ((images.astype(np.float32) / 255 - 0.5) / 0.5)[:, np.newaxis]
    session = ort.InferenceSession(str(tiny_manifest.with_suffix(".onnx")))
    predicted = session.run(["expressions"], {"face": x})[0].argmax(axis=1)
    assert result["accuracy"] == pytest.approx((predicted == labels).mean())
    per_class = result["per_class"]
    assert isinstance(per_class, dict) and list(per_class) == list(EXPRESSIONS)
    recalls = []
    for index, name in enumerate(EXPRESSIONS):
        mine = labels == index
        assert per_class[name] == pytest.approx((predicted[mine] == index).mean())
        recalls.append((predicted[mine] == index).mean())
    assert result["mean_recall"] == pytest.approx(np.mean(recalls))
    assert result["images"] == SAMPLE


def test_eval_model_refuses_a_model_without_expressions(
    fer_sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_model(tmp_path)
    document = json.loads(manifest.read_text("utf-8"))
    del document["outputs"]["expressions"]
    manifest.write_text(json.dumps(document), "utf-8")

    assert main(["eval-model", "--data", str(fer_sample), "--manifest", str(manifest)]) == 2
    assert "no `expressions` output" in capsys.readouterr().err


def test_eval_model_says_what_is_wrong_with_the_data(
    tmp_path: Path, tiny_manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savez(tmp_path / "bad.npz", pictures=np.zeros((2, 48, 48), np.uint8))

    bad = ["eval-model", "--data", str(tmp_path / "bad.npz"), "--manifest", str(tiny_manifest)]
    assert main(bad) == 2
    assert "not an .npz with `images` and `labels`" in capsys.readouterr().err


def test_bench_camera_times_detect_classify_and_the_whole_frame(
    fer_sample: Path,
    tiny_manifest: Path,
    detector_model: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = json_output(
        capsys,
        *("bench", "camera", "--manifest", str(tiny_manifest), "--repeat", "5"),
        *("--faces", str(fer_sample), "--detector", str(detector_model), "--json"),
    )

    assert result["detector"] == "mediapipe"
    for key in ("detect_ms", "classify_ms", "frame_ms"):
        spread = result[key]
        assert isinstance(spread, dict)
        assert 0 < spread["min"] <= spread["p10"] <= spread["median"] <= spread["p90"]
    machine = result["machine"]
    assert isinstance(machine, dict) and machine["cpu_count"]
    assert result["frame"] == {"width": 640, "height": 480, "face": f"{fer_sample}#1"}
