"""The emotion model is held to its manifest: a model that differs is refused at load."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest

from edge.camera.classifier import EmotionClassifier
from edge.camera.errors import ModelError
from edge.camera.manifest import find_manifest, load_manifest
from protocol.emotions import EMOTIC_CATEGORIES, EXPRESSIONS
from tests.edge.camera.tiny_model import build_model, manifest_for, write_model


def refusal(manifest: Path) -> str:
    with pytest.raises(ModelError) as caught:
        EmotionClassifier.from_manifest(manifest)
    return str(caught.value)


def edited(manifest: Path, edit: dict[str, Any]) -> Path:
    document = json.loads(manifest.read_text("utf-8"))
    for dotted, value in edit.items():
        *parents, key = dotted.split(".")
        node = document
        for parent in parents:
            node = node[parent]
        node[key] = value
    changed = manifest.with_name("changed.json")
    changed.write_text(json.dumps(document), "utf-8")
    return changed


def test_the_classifier_applies_the_manifests_preprocessing(
    tiny_manifest: Path, fer_val: npt.NDArray[np.uint8]
) -> None:
    classifier = EmotionClassifier.from_manifest(tiny_manifest)
    faces = fer_val[:5]

    scores = classifier.classify(list(faces))

    # x = (pixel * scale - mean) / std, by hand, straight into ONNX Runtime
    x = ((faces.astype(np.float32) / 255 - 0.5) / 0.5)[:, np.newaxis]
    session = ort.InferenceSession(str(tiny_manifest.with_suffix(".onnx")))
    emotions, vad, expressions = session.run(["emotions", "vad", "expressions"], {"face": x})
    np.testing.assert_allclose(scores.emotions, emotions, rtol=1e-5)
    np.testing.assert_allclose(scores.vad, vad, rtol=1e-5)
    assert scores.expressions is not None
    np.testing.assert_allclose(scores.expressions, expressions, rtol=1e-5)
    assert scores.emotions.shape == (5, len(EMOTIC_CATEGORIES))
    assert scores.expressions.shape == (5, len(EXPRESSIONS))


def test_colour_crops_of_any_size_are_converted(tiny_manifest: Path) -> None:
    classifier = EmotionClassifier.from_manifest(tiny_manifest)
    crop = np.random.default_rng(1).integers(0, 256, (131, 131, 3), dtype=np.uint8)

    assert classifier.preprocess([crop]).shape == (1, 1, 48, 48)


def test_a_model_that_does_not_match_its_sha256_is_refused(tiny_manifest: Path) -> None:
    changed = edited(tiny_manifest, {"sha256": "0" * 64})

    assert "sha256" in refusal(changed)
    assert "do not belong together" in refusal(changed)


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        ({"input.height": 64}, "input shape"),
        ({"input.name": "image"}, "model inputs are ['face']"),
        ({"outputs.vad.name": "valence"}, "no output 'valence'"),
        ({"outputs.emotions.shape": ["N", 25]}, "outputs.emotions.shape must be [N, 26]"),
        ({"emotions": list(reversed(EMOTIC_CATEGORIES))}, "26 EMOTIC categories"),
        ({"expressions": ["happy", *EXPRESSIONS[1:]]}, "expressions must be"),
        ({"input.color": "rgb"}, "color rgb with 1 channels"),
        ({"input.layout": "NHWC"}, "input.layout"),
    ],
)
def test_a_manifest_that_breaks_the_contract_is_refused(
    tiny_manifest: Path, edit: dict[str, Any], complaint: str
) -> None:
    assert complaint in refusal(edited(tiny_manifest, edit))


def test_a_model_whose_outputs_differ_from_the_manifest_is_refused(tmp_path: Path) -> None:
    manifest = write_model(tmp_path, build_model(emotions=25))

    assert "output 'emotions' has shape ['N', 25], manifest says ['N', 26]" in refusal(manifest)


def test_a_scalar_mean_and_std_apply_to_every_channel(tmp_path: Path) -> None:
    manifest = write_model(tmp_path)
    changed = edited(manifest, {"input.mean": 0.5, "input.std": 0.5})

    loaded, _model = load_manifest(changed)

    assert (loaded.input.mean, loaded.input.std) == ((0.5,), (0.5,))


def test_missing_models_are_refused_with_what_to_do(tmp_path: Path) -> None:
    assert "no such emotion model manifest" in refusal(tmp_path / "nowhere.json")
    manifest = write_model(tmp_path)
    manifest.with_suffix(".onnx").unlink()
    assert "emotion26.onnx does not exist" in refusal(manifest)


def test_the_manifest_is_found_in_models_then_in_seed_models_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edge.camera.paths.PROJECT_MODELS_DIR", tmp_path / "project")
    monkeypatch.setenv("SEED_MODELS_DIR", str(tmp_path / "env"))
    with pytest.raises(ModelError, match="no emotion model"):
        find_manifest(None)

    in_env = write_model(tmp_path / "env")
    assert find_manifest(None) == in_env
    in_project = write_model(tmp_path / "project")
    assert find_manifest(None) == in_project
    assert find_manifest(tmp_path / "configured.json") == tmp_path / "configured.json"


def test_extra_metadata_in_the_manifest_is_allowed(tmp_path: Path) -> None:
    model = tmp_path / "emotion26.onnx"
    manifest = write_model(tmp_path)
    document = manifest_for(model, version="2026-11", metrics={"val_accuracy": 0.6})
    manifest.write_text(json.dumps(document), "utf-8")

    assert EmotionClassifier.from_manifest(manifest).has_expressions
