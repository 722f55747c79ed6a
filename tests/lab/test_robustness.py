"""`seed-lab eval-model --robustness`: the transforms on real FER2013 faces and on drawn
images, and the command with the shipped model."""

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from lab.cli import main
from lab.robustness import BY_NAME, CONDITIONS, EXAMPLES, TILE, rotate, transform
from protocol.emotions import EXPRESSIONS

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "emotion26.json"
SUBSET = 200
ALL = [condition.name for condition in CONDITIONS]
Faces = npt.NDArray[np.uint8]


@pytest.fixture(scope="module")
def faces(fer_val: Faces) -> Faces:
    return fer_val[:64]


def run_cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def centroid(image: Faces) -> tuple[float, float]:
    """(row, column) of the image's brightness."""
    rows, cols = np.indices(image.shape)
    weight = image.astype(np.float64)
    return float((rows * weight).sum() / weight.sum()), float((cols * weight).sum() / weight.sum())


def laplacian_variance(faces: Faces) -> float:
    return float(np.mean([cv2.Laplacian(f.astype(np.float64), cv2.CV_64F).var() for f in faces]))


@pytest.mark.parametrize("name", ALL)
def test_each_condition_keeps_shape_and_dtype_and_is_deterministic(faces: Faces, name: str) -> None:
    condition = BY_NAME[name]
    spoilt = transform(condition, faces, seed=7)

    assert spoilt.shape == faces.shape and spoilt.dtype == np.uint8
    assert np.array_equal(spoilt, transform(condition, faces, seed=7))
    assert np.array_equal(faces, faces.copy())  # the input is left alone
    changed = np.abs(spoilt.astype(int) - faces).mean()
    assert changed == 0 if name == "clean" else changed > 1


@pytest.mark.parametrize("name", ["rotate_30", "noise_0.08"])
def test_the_random_parts_follow_the_seed(faces: Faces, name: str) -> None:
    condition = BY_NAME[name]
    assert not np.array_equal(transform(condition, faces, 1), transform(condition, faces, 2))


def test_a_rotation_moves_a_bright_spot_about_the_centre() -> None:
    image = np.zeros((1, 48, 48), np.uint8)
    image[0, 21:27, 38:44] = 255  # centred 17 px right of the image's centre (23.5, 23.5)
    angle = np.radians(30)

    left, right = rotate(image, 30)[0], rotate(image, -30)[0]

    # positive: counter-clockwise on screen, so the spot rises; negative: it sinks
    assert centroid(left) == pytest.approx(
        (23.5 - 17 * np.sin(angle), 23.5 + 17 * np.cos(angle)), abs=0.3
    )
    assert centroid(right) == pytest.approx(
        (23.5 + 17 * np.sin(angle), 23.5 + 17 * np.cos(angle)), abs=0.3
    )
    assert image.sum() * 0.95 < left.astype(int).sum() < image.sum() * 1.05


def test_rotate_30_turns_each_face_one_way_or_the_other(faces: Faces) -> None:
    turned = transform(BY_NAME["rotate_30"], faces)
    ways = [
        next(
            sign
            for sign in (1, -1)
            if np.array_equal(turned[i], rotate(faces[i : i + 1], 30 * sign)[0])
        )
        for i in range(len(faces))
    ]
    assert set(ways) == {1, -1}


def test_lighting_darkens_and_flattens(faces: Faces) -> None:
    pixels = faces.astype(np.float64)
    dark = transform(BY_NAME["dark_50"], faces).astype(np.float64)
    gamma = transform(BY_NAME["dark_gamma_2"], faces).astype(np.float64)
    flat = transform(BY_NAME["low_contrast_50"], faces).astype(np.float64)

    assert dark.mean() == pytest.approx(pixels.mean() / 2, abs=0.5)
    assert (gamma <= pixels).all() and gamma.mean() < 0.8 * pixels.mean()
    assert flat.mean() == pytest.approx(pixels.mean(), abs=0.5)
    assert flat.std(axis=(1, 2)) == pytest.approx(pixels.std(axis=(1, 2)) / 2, abs=0.5)


def test_lower_resolution_loses_the_high_frequencies(faces: Faces) -> None:
    sharpness = [laplacian_variance(faces)] + [
        laplacian_variance(transform(BY_NAME[f"lowres_{side}"], faces)) for side in (24, 16, 12)
    ]

    assert sharpness == sorted(sharpness, reverse=True)
    assert sharpness[-1] < 0.1 * sharpness[0]


@pytest.mark.parametrize(("shade", "lighter"), [(0, True), (255, False)])
def test_the_mask_covers_only_the_lower_face(shade: int, lighter: bool) -> None:
    plain = np.full((2, 48, 48), shade, np.uint8)
    masked = transform(BY_NAME["mask"], plain).astype(int)

    assert np.array_equal(masked[:, :23], plain[:, :23])
    change = masked[:, 30:] - plain[:, 30:]
    assert (change > 0).mean() > 0.5 if lighter else (change < 0).mean() > 0.2
    assert ((masked[:, 40, 24] - shade > 150) if lighter else (masked[:, 33, 24] < shade)).all()


def test_the_glasses_cover_the_eyes_and_nothing_below_the_nose(faces: Faces) -> None:
    covered = transform(BY_NAME["glasses"], faces)

    assert np.array_equal(covered[:, :10], faces[:, :10])
    assert np.array_equal(covered[:, 26:], faces[:, 26:])
    for eye in ((18, 15), (18, 33)):
        assert (covered[(slice(None), *eye)] < 30).all()


@pytest.fixture(scope="module")
def robustness(fer_val_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    examples = tmp_path_factory.mktemp("robustness") / "examples.png"
    out = run_cli(
        *("eval-model", "--data", str(fer_val_file), "--manifest", str(SHIPPED)),
        *("--limit", str(SUBSET), "--robustness", "--json", "--examples", str(examples)),
    )
    result: dict[str, Any] = json.loads(out)
    result["examples_png"] = examples
    return result


def test_robustness_reports_every_condition(robustness: dict[str, Any]) -> None:
    rows = robustness["conditions"]
    assert list(rows) == ALL and robustness["images"] == SUBSET
    clean = rows["clean"]
    for name, row in rows.items():
        assert row["n"] == SUBSET and list(row["per_class"]) == list(EXPRESSIONS)
        recalls = [r for r in row["per_class"].values() if r is not None]
        assert row["mean_recall"] == pytest.approx(np.mean(recalls))
        for key in ("accuracy", "mean_recall"):
            expected = 100 * (clean[key] - row[key])
            assert row[f"{key}_drop_pp"] == pytest.approx(expected, abs=0.01), name
    assert rows["lowres_12"]["accuracy"] < clean["accuracy"] - 0.1
    assert rows["mask"]["per_class"]["happy"] < clean["per_class"]["happy"] / 2


def test_the_clean_row_is_plain_eval_model(robustness: dict[str, Any], fer_val_file: Path) -> None:
    plain = json.loads(
        run_cli(
            *("eval-model", "--data", str(fer_val_file), "--manifest", str(SHIPPED)),
            *("--limit", str(SUBSET), "--json"),
        )
    )
    clean = robustness["conditions"]["clean"]

    assert plain["images"] == SUBSET
    for key in ("accuracy", "mean_recall", "per_class"):
        assert clean[key] == plain[key]


def test_the_examples_show_each_condition(robustness: dict[str, Any]) -> None:
    grid = cv2.imread(str(robustness["examples_png"]), cv2.IMREAD_GRAYSCALE)
    assert grid is not None

    assert grid.shape == (TILE * len(ALL), TILE * (EXAMPLES + 2))
    clean, masked = grid[:TILE, 2 * TILE :], grid[-TILE:, 2 * TILE :]
    above_the_loops = TILE * 2 // 5
    assert np.array_equal(clean[:above_the_loops], masked[:above_the_loops])
    assert not np.array_equal(clean, masked)


def test_robustness_table_for_chosen_conditions(fer_val_file: Path) -> None:
    out = run_cli(
        *("eval-model", "--data", str(fer_val_file), "--manifest", str(SHIPPED)),
        *("--limit", "50", "--robustness", "--conditions", "mask, lowres_12"),
    )
    lines = out.splitlines()

    assert lines[0].startswith("| condition | accuracy") and lines[0].endswith("| neutral |")
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| `clean`",
        "| `lowres_12`",
        "| `mask`",
    ]
    assert all(line.count("|") == len(EXPRESSIONS) + 4 for line in lines)


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        (["--robustness", "--conditions", "fog"], "unknown conditions ['fog']"),
        (["--conditions", "mask"], "--conditions and --examples go with --robustness"),
        (["--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_eval_model_refuses_what_it_cannot_do(
    fer_val_file: Path, extra: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["eval-model", "--data", str(fer_val_file), "--manifest", str(SHIPPED), *extra]
    assert main(argv) == 2
    assert complaint in capsys.readouterr().err


def test_the_help_names_every_condition(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval-model", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(name in text for name in ALL)
