"""A tiny ONNX emotion model that honours the manifest contract, built with onnx.helper.

Input "face" [N, 1, 48, 48] gray; fixed random linear maps give `expressions` (softmax of
7), `emotions` (sigmoid of 26) and `vad` (sigmoid of 3).
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from protocol.emotions import EMOTIC_CATEGORIES, EXPRESSIONS

SIDE = 48
PIXELS = SIDE * SIDE


def build_model(*, side: int = SIDE, emotions: int = 26, seed: int = 7) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    pixels = side * side

    def weights(name: str, outputs: int) -> onnx.TensorProto:
        return numpy_helper.from_array(
            rng.normal(0, 0.05, (pixels, outputs)).astype(np.float32), name
        )

    nodes = [
        helper.make_node("Flatten", ["face"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "w_expressions"], ["logits_expressions"]),
        helper.make_node("Softmax", ["logits_expressions"], ["expressions"], axis=1),
        helper.make_node("MatMul", ["flat", "w_emotions"], ["logits_emotions"]),
        helper.make_node("Sigmoid", ["logits_emotions"], ["emotions"]),
        helper.make_node("MatMul", ["flat", "w_vad"], ["logits_vad"]),
        helper.make_node("Sigmoid", ["logits_vad"], ["vad"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_emotion",
        [helper.make_tensor_value_info("face", TensorProto.FLOAT, ["N", 1, side, side])],
        [
            helper.make_tensor_value_info("emotions", TensorProto.FLOAT, ["N", emotions]),
            helper.make_tensor_value_info("vad", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("expressions", TensorProto.FLOAT, ["N", 7]),
        ],
        initializer=[
            weights("w_expressions", 7),
            weights("w_emotions", emotions),
            weights("w_vad", 3),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def manifest_for(model_file: Path, **changes: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "name": "tiny test model",
        "file": model_file.name,
        "sha256": hashlib.sha256(model_file.read_bytes()).hexdigest(),
        "input": {
            "name": "face",
            "layout": "NCHW",
            "channels": 1,
            "height": SIDE,
            "width": SIDE,
            "color": "gray",
            "scale": 1 / 255,
            "mean": [0.5],
            "std": [0.5],
        },
        "outputs": {
            "emotions": {"name": "emotions", "shape": ["N", 26]},
            "vad": {"name": "vad", "shape": ["N", 3]},
            "expressions": {"name": "expressions", "shape": ["N", 7]},
        },
        "emotions": list(EMOTIC_CATEGORIES),
        "expressions": list(EXPRESSIONS),
    }
    manifest.update(changes)
    return manifest


def write_model(folder: Path, model: onnx.ModelProto | None = None, **changes: Any) -> Path:
    """models/emotion26.onnx and its manifest in `folder`; returns the manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    model_file = folder / "emotion26.onnx"
    onnx.save(model or build_model(), model_file)
    manifest = folder / "emotion26.json"
    manifest.write_text(json.dumps(manifest_for(model_file, **changes), indent=2), "utf-8")
    return manifest
