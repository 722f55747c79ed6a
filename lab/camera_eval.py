"""`seed-lab eval-model`: the emotion model's expression accuracy on labelled face crops."""

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.camera.classifier import EmotionClassifier
from edge.camera.errors import ModelError
from edge.camera.faces import load_faces
from edge.camera.manifest import find_manifest
from protocol.emotions import EXPRESSIONS
from protocol.errors import ConfigError

BATCH = 256


def predict_expressions(
    classifier: EmotionClassifier, images: npt.NDArray[np.uint8]
) -> npt.NDArray[np.int64]:
    """The most likely expression of each face crop, in batches."""
    if not classifier.has_expressions:
        raise ModelError("this model has no `expressions` output to evaluate")
    predicted = []
    for start in range(0, len(images), BATCH):
        expressions = classifier.classify(list(images[start : start + BATCH])).expressions
        assert expressions is not None
        predicted.append(expressions.argmax(axis=1))
    return np.concatenate(predicted).astype(np.int64)


def expression_scores(
    predicted: npt.NDArray[np.int64], labels: npt.NDArray[np.int64]
) -> dict[str, Any]:
    """Accuracy, the recall of each expression (None where it has no examples) and their
    mean over the expressions that have examples."""
    per_class: dict[str, float | None] = {}
    for index, name in enumerate(EXPRESSIONS):
        mine = labels == index
        per_class[name] = float((predicted[mine] == index).mean()) if mine.any() else None
    recalls = [recall for recall in per_class.values() if recall is not None]
    return {
        "accuracy": float((predicted == labels).mean()),
        "mean_recall": float(np.mean(recalls)),
        "per_class": per_class,
    }


def load_model(manifest: Path | None = None) -> tuple[EmotionClassifier, Path]:
    """The kiosk's classifier and the manifest it came from (default: the shipped one)."""
    manifest_path = find_manifest(manifest)
    return EmotionClassifier.from_manifest(manifest_path), manifest_path


def load_subset(
    data: Path, limit: int | None = None
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The first `limit` faces and labels of `data` (all of them without a limit)."""
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be at least 1, not {limit}")
    images, labels = load_faces(data)
    return images[:limit], labels[:limit]


def evaluate_model(
    data: Path, manifest: Path | None = None, *, limit: int | None = None
) -> dict[str, Any]:
    classifier, manifest_path = load_model(manifest)
    images, labels = load_subset(data, limit)
    scores = expression_scores(predict_expressions(classifier, images), labels)
    return {**scores, "images": len(images), "data": str(data), "manifest": str(manifest_path)}
