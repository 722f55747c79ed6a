"""Smoke-train the emotion model in both modes and check every exported ONNX + manifest."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from protocol.emotions import EMOTIC_CATEGORIES, EXPRESSIONS, VAD_DIMENSIONS

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "train_emotion_model.py"
FER_DIR = Path(os.environ.get("SEED_FER2013_DIR", REPO.parent / "shared" / "data" / "fer2013"))


def run_script(*args: str | Path) -> None:
    command = [sys.executable, str(SCRIPT), *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, env=env, timeout=240
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fake_images(manifest: dict[str, Any], n: int) -> np.ndarray:
    spec = manifest["input"]
    pixels = np.random.default_rng(0).integers(0, 256, (n, spec["channels"], 48, 48))
    x = (pixels * spec["scale"] - spec["mean"]) / spec["std"]
    return x.astype(np.float32)


def check_export(manifest_path: Path, *, with_expressions: bool) -> None:
    """The manifest states the ONNX contract and the ONNX file keeps it."""
    manifest = json.loads(manifest_path.read_text())
    onnx_path = manifest_path.parent / manifest["file"]
    assert manifest["sha256"] == sha256(onnx_path)
    assert onnx_path.stat().st_size < 8_000_000
    assert manifest["emotions"] == list(EMOTIC_CATEGORIES)
    spec = manifest["input"]
    assert spec["layout"] == "NCHW" and (spec["height"], spec["width"]) == (48, 48)
    assert spec["color"] == {1: "gray", 3: "rgb"}[spec["channels"]]
    expected = {"emotions": len(EMOTIC_CATEGORIES), "vad": len(VAD_DIMENSIONS)}
    if with_expressions:
        assert manifest["expressions"] == list(EXPRESSIONS)
        expected["expressions"] = len(EXPRESSIONS)
    assert {k: v["shape"][1] for k, v in manifest["outputs"].items()} == expected

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [spec["name"]]
    names = [o["name"] for o in manifest["outputs"].values()]
    assert sorted(o.name for o in session.get_outputs()) == sorted(names)
    for batch in (1, 5):  # the batch dimension is dynamic
        results = session.run(names, {spec["name"]: fake_images(manifest, batch)})
        got = dict(zip(manifest["outputs"], results, strict=True))
        for key, width in expected.items():
            assert got[key].shape == (batch, width)
        for key in ("emotions", "vad"):
            assert (got[key] >= 0).all() and (got[key] <= 1).all()
        if with_expressions:
            np.testing.assert_allclose(got["expressions"].sum(axis=1), 1.0, atol=1e-5)


def test_fer_mode_smoke_training_exports_the_contract(tmp_path: Path) -> None:
    train_npz = FER_DIR / "train.npz"
    if not train_npz.exists():
        pytest.fail(f"FER2013 data not found at {FER_DIR}: set SEED_FER2013_DIR")
    val = np.load(FER_DIR / "val.npz")
    small_val = tmp_path / "val300.npz"
    np.savez(
        small_val, images=val["images"][:300], labels=val["labels"][:300], classes=val["classes"]
    )
    out = tmp_path / "model"
    args = ("--limit", "300", "--epochs", "1", "--out", out)
    run_script("train", "--data", train_npz, "--val-data", small_val, *args)
    check_export(out / "emotion26.json", with_expressions=True)


def test_emotic_mode_smoke_training_exports_the_contract(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 64
    data = tmp_path / "emotic.npz"
    np.savez(
        data,
        images=rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8),
        emotions=rng.integers(0, 2, (n, len(EMOTIC_CATEGORIES))).astype(np.uint8),
        vad=rng.random((n, 3)).astype(np.float32),
    )
    out = tmp_path / "model"
    run_script("train", "--mode", "emotic", "--data", data, "--epochs", "1", "--out", out)
    manifest = json.loads((out / "emotion26.json").read_text())
    assert manifest["expressions"] is None and manifest["input"]["color"] == "rgb"
    check_export(out / "emotion26.json", with_expressions=False)


def test_committed_model_matches_its_manifest_and_the_protocol() -> None:
    manifest_path = REPO / "models" / "emotion26.json"
    check_export(manifest_path, with_expressions=True)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["expressions"] == list(EXPRESSIONS)
    assert manifest["emotions"] == list(EMOTIC_CATEGORIES)
    assert manifest["input"]["color"] == "gray"
