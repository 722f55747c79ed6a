"""`seed-lab eval-model --robustness`: the emotion model on labelled faces rotated, darker,
lower in resolution, blurred, noisy, compressed and partly covered (glasses, a mask)."""

import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from edge.camera.classifier import EmotionClassifier
from lab.camera_eval import expression_scores, load_model, load_subset, predict_expressions
from protocol.emotions import EXPRESSIONS
from protocol.errors import ConfigError

Faces = npt.NDArray[np.uint8]
Layer = npt.NDArray[np.float32]
Transform = Callable[[Faces, np.random.Generator], Faces]
Progress = Callable[[str], None]

GRID = 48  # occluders are drawn on FER2013's 48x48 grid, then scaled to the faces' size
EXAMPLES = 8
TILE = 96


@dataclass(frozen=True)
class Condition:
    """A named way to spoil a face, and how hard (`severity`, in `unit`)."""

    name: str
    family: str
    severity: float
    unit: str
    transform: Transform


def _each(faces: Faces, change: Callable[[Faces], npt.NDArray[Any]]) -> Faces:
    if not len(faces):
        return faces.copy()
    return np.stack([change(face) for face in faces]).astype(np.uint8)


def _clip(values: npt.NDArray[np.floating[Any]]) -> Faces:
    return np.asarray(np.clip(np.rint(values), 0, 255), dtype=np.uint8)


def rotate(faces: Faces, degrees: npt.ArrayLike) -> Faces:
    """Each face turned about its centre by its angle (counter-clockwise on screen when
    positive), the border replicated."""
    angles = np.broadcast_to(np.asarray(degrees, np.float64), (len(faces),))
    height, width = faces.shape[1:3]
    centre = ((width - 1) / 2, (height - 1) / 2)
    turned = [
        cv2.warpAffine(
            face,
            cv2.getRotationMatrix2D(centre, float(angle), 1.0),
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        for face, angle in zip(faces, angles, strict=True)
    ]
    return np.stack(turned).astype(np.uint8) if turned else faces.copy()


def brightness(faces: Faces, factor: float) -> Faces:
    return _clip(faces.astype(np.float32) * factor)


def gamma(faces: Faces, power: float) -> Faces:
    """Darker mid-tones: p -> p**power on [0, 1]."""
    table = _clip(255 * (np.arange(256) / 255) ** power)
    return table[faces]


def contrast(faces: Faces, factor: float) -> Faces:
    """Each face pulled towards its own mean brightness."""
    pixels = faces.astype(np.float32)
    mean = pixels.mean(axis=(1, 2), keepdims=True)
    return _clip(mean + factor * (pixels - mean))


def low_resolution(faces: Faces, side: int) -> Faces:
    """Down to side x side (INTER_AREA) and back up (INTER_LINEAR): detail lost, size kept."""
    height, width = faces.shape[1:3]
    return _each(
        faces,
        lambda face: cv2.resize(
            cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA),
            (width, height),
            interpolation=cv2.INTER_LINEAR,
        ),
    )


def blur(faces: Faces, sigma: float) -> Faces:
    return _each(faces, lambda face: cv2.GaussianBlur(face, (0, 0), sigma))


def noise(faces: Faces, sigma: float, rng: np.random.Generator) -> Faces:
    """Gaussian sensor noise, sigma a fraction of full scale."""
    return _clip(faces + rng.normal(0.0, sigma * 255, faces.shape))


def jpeg(faces: Faces, quality: int) -> Faces:
    def compress(face: Faces) -> Faces:
        ok, encoded = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), np.uint8)

    return _each(faces, compress)


@dataclass(frozen=True)
class Occluder:
    """Something in front of the face, drawn on the 48x48 grid: its grey levels, and how
    much of each pixel it covers (0..1)."""

    shade: Layer
    cover: Layer

    def covered_share(self) -> float:
        return float(self.cover.mean())


def _canvas() -> Layer:
    return np.zeros((GRID, GRID), np.float32)


def glasses() -> Occluder:
    """Dark lenses over both eyes, a bridge and the arms to the temples."""
    cover = _canvas()
    for centre in ((15, 18), (33, 18)):
        cv2.ellipse(cover, centre, (8, 5), 0, 0, 360, 1.0, cv2.FILLED, cv2.LINE_AA)
    cv2.line(cover, (22, 16), (26, 16), 1.0, 2, cv2.LINE_AA)
    cv2.line(cover, (7, 17), (0, 15), 1.0, 1, cv2.LINE_AA)
    cv2.line(cover, (41, 17), (47, 15), 1.0, 1, cv2.LINE_AA)
    return Occluder(np.full((GRID, GRID), 25, np.float32), cover)


def surgical_mask() -> Occluder:
    """A light mask from the nose tip to below the chin, its pleats and ear loops."""
    cover, shade = _canvas(), np.full((GRID, GRID), 215, np.float32)
    outline = np.array(
        [(10, 29), (18, 27), (30, 27), (38, 29), (42, 38), (35, 47), (13, 47), (6, 38)],
        np.int32,
    )
    cv2.fillPoly(cover, [outline], 1.0, cv2.LINE_AA)
    for row in (33, 38, 43):
        cv2.line(shade, (6, row), (42, row), 180.0, 1, cv2.LINE_AA)
    cv2.line(cover, (10, 30), (1, 24), 1.0, 1, cv2.LINE_AA)
    cv2.line(cover, (38, 30), (47, 24), 1.0, 1, cv2.LINE_AA)
    return Occluder(shade, np.clip(cover, 0, 1))


def occlude(faces: Faces, occluder: Occluder) -> Faces:
    height, width = faces.shape[1:3]
    shade, cover = (
        cv2.resize(layer, (width, height), interpolation=cv2.INTER_LINEAR)
        for layer in (occluder.shade, occluder.cover)
    )
    return _clip(faces * (1 - cover) + shade * cover)


def _either_way(degrees: float) -> Transform:
    """Each face turned by `degrees` to one side or the other, at random."""

    def turn(faces: Faces, rng: np.random.Generator) -> Faces:
        return rotate(faces, degrees * rng.choice((-1, 1), size=len(faces)))

    return turn


def _shrunk(side: int) -> Transform:
    return lambda faces, _rng: low_resolution(faces, side)


GLASSES, MASK = glasses(), surgical_mask()
CONDITIONS: tuple[Condition, ...] = (
    Condition("clean", "none", 0, "", lambda f, _r: f.copy()),
    *(Condition(f"rotate_{d}", "pose", d, "degrees, either way", _either_way(d)) for d in (15, 30)),
    Condition("dark_50", "lighting", 0.5, "brightness factor", lambda f, _r: brightness(f, 0.5)),
    Condition("dark_gamma_2", "lighting", 2.0, "gamma", lambda f, _r: gamma(f, 2.0)),
    Condition(
        "low_contrast_50", "lighting", 0.5, "contrast factor", lambda f, _r: contrast(f, 0.5)
    ),
    *(Condition(f"lowres_{s}", "resolution", s, "pixels a side", _shrunk(s)) for s in (24, 16, 12)),
    Condition("blur_1.5", "camera", 1.5, "Gaussian sigma, pixels", lambda f, _r: blur(f, 1.5)),
    Condition(
        "noise_0.08",
        "camera",
        0.08,
        "Gaussian sigma, of full scale",
        lambda f, r: noise(f, 0.08, r),
    ),
    Condition("jpeg_20", "camera", 20, "JPEG quality", lambda f, _r: jpeg(f, 20)),
    Condition(
        "glasses",
        "occlusion",
        round(GLASSES.covered_share(), 3),
        "share of the crop covered",
        lambda f, _r: occlude(f, GLASSES),
    ),
    Condition(
        "mask",
        "occlusion",
        round(MASK.covered_share(), 3),
        "share of the crop covered",
        lambda f, _r: occlude(f, MASK),
    ),
)
BY_NAME = {condition.name: condition for condition in CONDITIONS}


def choose_conditions(names: Sequence[str] | None) -> tuple[Condition, ...]:
    """The named conditions in the standard order, always with `clean` first (the baseline)."""
    if not names:
        return CONDITIONS
    unknown = sorted(set(names) - set(BY_NAME))
    if unknown:
        raise ConfigError(f"unknown conditions {unknown}; known: {', '.join(BY_NAME)}")
    wanted = {"clean", *names}
    return tuple(c for c in CONDITIONS if c.name in wanted)


def transform(condition: Condition, faces: Faces, seed: int = 0) -> Faces:
    """The faces under `condition`, the same for the same seed whatever else is run."""
    rng = np.random.default_rng([seed, zlib.crc32(condition.name.encode())])
    return condition.transform(faces, rng)


def _drops(row: dict[str, Any], clean: dict[str, Any]) -> dict[str, float]:
    return {
        f"{key}_drop_pp": round(100 * (clean[key] - row[key]), 2)
        for key in ("accuracy", "mean_recall")
    }


def _progress_line(name: str, row: dict[str, Any], done: int, total: int) -> str:
    return (
        f"robustness: {name} ({done}/{total}): accuracy {row['accuracy']:.1%}, "
        f"mean recall {row['mean_recall']:.1%}"
    )


def score_conditions(
    classifier: EmotionClassifier,
    images: Faces,
    labels: npt.NDArray[np.int64],
    conditions: Sequence[Condition],
    *,
    seed: int = 0,
    progress: Progress = lambda line: None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Faces]]:
    """Scores per condition (the first is the baseline for the drops), and each condition's
    first few transformed faces."""
    rows: dict[str, dict[str, Any]] = {}
    examples: dict[str, Faces] = {}
    for done, condition in enumerate(conditions, start=1):
        faces = transform(condition, images, seed)
        scores = expression_scores(predict_expressions(classifier, faces), labels)
        row = {"family": condition.family, "severity": condition.severity}
        row |= {"unit": condition.unit, "n": len(faces), **scores}
        baseline = next(iter(rows.values()), row)
        rows[condition.name] = row | _drops(row, baseline)
        examples[condition.name] = faces[:EXAMPLES]
        progress(_progress_line(condition.name, row, done, len(conditions)))
    return rows, examples


def evaluate_robustness(
    data: Path,
    manifest: Path | None = None,
    *,
    names: Sequence[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    examples: Path | None = None,
) -> dict[str, Any]:
    """Accuracy, mean recall and recall per expression under each condition, with the drops
    from `clean`; progress on stderr; a PNG of examples if asked."""
    conditions = choose_conditions(names)
    classifier, manifest_path = load_model(manifest)
    images, labels = load_subset(data, limit)
    _say(f"robustness: {len(images)} faces from {data}, model {manifest_path}")
    rows, faces = score_conditions(classifier, images, labels, conditions, seed=seed, progress=_say)
    if examples is not None:
        write_examples(faces, examples)
        _say(f"robustness: examples in {examples}")
    return {
        "data": str(data),
        "manifest": str(manifest_path),
        "images": len(images),
        "seed": seed,
        "conditions": rows,
    }


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _labelled_row(name: str, faces: Faces) -> Faces:
    tiles = [cv2.resize(face, (TILE, TILE), interpolation=cv2.INTER_NEAREST) for face in faces]
    label = np.full((TILE, 2 * TILE), 255, np.uint8)
    cv2.putText(label, name, (6, TILE // 2 + 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 1, cv2.LINE_AA)
    blank = [np.full((TILE, TILE), 255, np.uint8)] * (EXAMPLES - len(tiles))
    return np.hstack([label, *tiles, *blank])


def write_examples(examples: dict[str, Faces], path: Path) -> None:
    """A PNG grid: one row per condition, its name and its first faces."""
    grid = np.vstack([_labelled_row(name, faces) for name, faces in examples.items()])
    if not cv2.imwrite(str(path), grid):
        raise ConfigError(f"{path}: cannot write a PNG there")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def markdown_table(result: dict[str, Any]) -> list[str]:
    """Rows ready for the model card: accuracy and mean recall (drop from clean, points),
    then recall per expression, in %."""
    header = ["condition", "accuracy % (Δ pp)", "mean recall % (Δ pp)", *EXPRESSIONS]
    lines = [_cells(header), _cells(["---"] * len(header))]
    for index, (name, row) in enumerate(result["conditions"].items()):
        overall = [_percent(row[key]) for key in ("accuracy", "mean_recall")]
        if index:  # the first row is the baseline the others are compared with
            drops = (row["accuracy_drop_pp"], row["mean_recall_drop_pp"])
            overall = [
                f"{cell} ({0 - drop:+.1f})" for cell, drop in zip(overall, drops, strict=True)
            ]
        per_class = [_percent(row["per_class"][e]) for e in EXPRESSIONS]
        lines.append(_cells([f"`{name}`", *overall, *per_class]))
    return lines


def _cells(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
