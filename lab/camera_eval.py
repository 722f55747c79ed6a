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
    """Accuracy, and the recall of each expression (None where it has no examples)."""
    per_class: dict[str, float | None] = {}
    for index, name in enumerate(EXPRESSIONS):
        mine = labels == index
        per_class[name] = float((predicted[mine] == index).mean()) if mine.any() else None
    return {"accuracy": float((predicted == labels).mean()), "per_class": per_class}


def evaluate_model(data: Path, manifest: Path | None = None) -> dict[str, Any]:
    manifest_path = find_manifest(manifest)
    classifier = EmotionClassifier.from_manifest(manifest_path)
    images, labels = load_faces(data)
    scores = expression_scores(predict_expressions(classifier, images), labels)
    return {**scores, "images": len(images), "data": str(data), "manifest": str(manifest_path)}
