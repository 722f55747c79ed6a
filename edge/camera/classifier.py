"""The emotion classifier: ONNX Runtime on face crops, held to its manifest's contract."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from edge.camera.errors import ModelError
from edge.camera.manifest import Dim, Manifest, load_manifest
from edge.camera.sources import Frame

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scores:
    """The model's outputs for a batch of faces, one row per face."""

    emotions: Floats
    vad: Floats
    expressions: Floats | None


def _dims_agree(declared: Sequence[Dim], actual: Sequence[object]) -> bool:
    """A named (free) dimension in the manifest matches anything; a size must be exact."""
    return len(declared) == len(actual) and all(
        isinstance(d, str) or d == a for d, a in zip(declared, actual, strict=True)
    )


class EmotionClassifier:
    def __init__(self, manifest: Manifest, model: Path, *, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = threads
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{model}: ONNX Runtime cannot load it: {exc}") from exc
        self.manifest = manifest
        self._where = model
        self._outputs = {
            name: spec
            for name, spec in (
                ("emotions", manifest.outputs.emotions),
                ("vad", manifest.outputs.vad),
                ("expressions", manifest.outputs.expressions),
            )
            if spec is not None
        }
        self._batch = self._check_input()
        self._check_outputs()
        self._check_a_run()

    @classmethod
    def from_manifest(cls, path: Path, *, threads: int = 1) -> "EmotionClassifier":
        manifest, model = load_manifest(path)
        classifier = cls(manifest, model, threads=threads)
        log.info("emotion model %s loaded (sha256 %s…)", model.name, manifest.sha256[:12])
        return classifier

    @property
    def has_expressions(self) -> bool:
        return "expressions" in self._outputs

    @property
    def max_batch(self) -> int | None:
        """None if the model takes any batch size."""
        return self._batch

    def preprocess(self, faces: Sequence[Frame]) -> Floats:
        """Face crops (BGR or gray, any size) as the model's input tensor."""
        spec = self.manifest.input
        rows = []
        for face in faces:
            image = _to_color(face, spec.color)
            if image.shape[:2] != (spec.height, spec.width):
                shrinking = image.shape[0] > spec.height
                interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
                image = np.asarray(
                    cv2.resize(image, (spec.width, spec.height), interpolation=interpolation),
                    dtype=np.uint8,
                )
            rows.append(image.reshape(spec.height, spec.width, spec.channels))
        pixels = np.stack(rows).astype(np.float32).transpose(0, 3, 1, 2)
        mean = np.asarray(spec.mean, np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(spec.std, np.float32).reshape(1, -1, 1, 1)
        return np.asarray((pixels * np.float32(spec.scale) - mean) / std, dtype=np.float32)

    def classify(self, faces: Sequence[Frame]) -> Scores:
        return self.run(self.preprocess(faces))

    def run(self, batch: Floats) -> Scores:
        names = list(self._outputs)
        step = self._batch or len(batch)
        parts = [
            self._session.run(
                [self._outputs[n].name for n in names],
                {self.manifest.input.name: batch[start : start + step]},
            )
            for start in range(0, len(batch), step)
        ]
        stacked = {
            name: np.concatenate([np.asarray(p[i], np.float32) for p in parts])
            for i, name in enumerate(names)
        }
        return Scores(stacked["emotions"], stacked["vad"], stacked.get("expressions"))

    def _refuse(self, problem: str) -> ModelError:
        return ModelError(f"{self._where}: {problem}; the manifest and the model disagree")

    def _check_input(self) -> int | None:
        spec = self.manifest.input
        inputs = {i.name: i for i in self._session.get_inputs()}
        if list(inputs) != [spec.name]:
            raise self._refuse(f"model inputs are {list(inputs)}, manifest says [{spec.name!r}]")
        shape = inputs[spec.name].shape
        if len(shape) != 4 or tuple(shape[1:]) != spec.shape:
            raise self._refuse(
                f"input shape {shape}, manifest says [N, {', '.join(map(str, spec.shape))}]"
            )
        if inputs[spec.name].type != "tensor(float)":
            raise self._refuse(f"input type {inputs[spec.name].type}, expected tensor(float)")
        return shape[0] if isinstance(shape[0], int) else None

    def _check_outputs(self) -> None:
        outputs = {o.name: o.shape for o in self._session.get_outputs()}
        for key, spec in self._outputs.items():
            if spec.name not in outputs:
                raise self._refuse(f"no output {spec.name!r} ({key}); it has {list(outputs)}")
            if not _dims_agree(spec.shape, outputs[spec.name]):
                raise self._refuse(
                    f"output {spec.name!r} has shape {outputs[spec.name]}, manifest says "
                    f"{list(spec.shape)}"
                )

    def _check_a_run(self) -> None:
        """One blank face through the model: every output has its size and its range."""
        spec = self.manifest.input
        blank = np.full((self._batch or 1, spec.height, spec.width), 128, np.uint8)
        scores = self.classify(list(blank))
        produced = {"emotions": scores.emotions, "vad": scores.vad}
        if scores.expressions is not None:
            produced["expressions"] = scores.expressions
            if not np.allclose(scores.expressions.sum(axis=1), 1, atol=1e-3):
                raise self._refuse("its expressions do not sum to 1 (no softmax?)")
        for key, values in produced.items():
            size = self._outputs[key].shape[-1]
            if values.shape != (len(blank), size):
                raise self._refuse(f"output {key} came out {list(values.shape)}, not [N, {size}]")
            if not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1):
                raise self._refuse(f"output {key} is not in [0, 1]")


def _to_color(face: Frame, color: str) -> Frame:
    if face.ndim == 2:
        return face if color == "gray" else np.asarray(cv2.cvtColor(face, cv2.COLOR_GRAY2RGB))
    code = cv2.COLOR_BGR2GRAY if color == "gray" else cv2.COLOR_BGR2RGB
    return np.asarray(cv2.cvtColor(face, code), dtype=np.uint8)
