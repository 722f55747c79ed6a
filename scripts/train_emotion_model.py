"""Train the kiosk's emotion model on CPU and export it as one ONNX graph plus a manifest.

Modes:
  fer     7 expressions from FER2013 (train.npz/val.npz); the graph also maps them to the
          26 EMOTIC categories (protocol.emotions.BRIDGE) and to VAD (NRC VAD lexicon).
  emotic  a true 26-category multi-label head + VAD from EMOTIC-format annotations: an npz
          with `images` uint8 [N,H,W] (gray) or [N,H,W,3] (rgb), `emotions` [N,26] in {0,1}
          in protocol.emotions.EMOTIC_CATEGORIES order, `vad` [N,3] in [0,1]
          (valence, arousal, dominance). Images are resized to 48x48.

Examples:
  python scripts/train_emotion_model.py train --mode fer --epochs 30 --out runs/fer
  python scripts/train_emotion_model.py export --checkpoint runs/fer/checkpoint.pt --out models
  python scripts/train_emotion_model.py evaluate --model models/emotion26.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from protocol.emotions import (  # noqa: E402
    BRIDGE,
    EMOTIC_CATEGORIES,
    EXPRESSIONS,
    VAD_DIMENSIONS,
    VAD_TABLE,
)

SIZE = 48
SCALE = 1.0 / 255.0
MEAN = 0.5
STD = 0.25
OPSET = 17
MODEL_NAME = "emotion26"
INPUT_NAME = "image"


def default_fer_dir() -> Path:
    return Path(os.environ.get("SEED_FER2013_DIR", REPO.parent / "shared" / "data" / "fer2013"))


@dataclass(frozen=True)
class ModelConfig:
    mode: str  # "fer" | "emotic"
    channels: int  # 1 gray, 3 rgb
    widths: tuple[int, ...] = (32, 64, 128, 256)
    convs: tuple[int, ...] = (1, 1, 2, 2)
    hidden: int = 128
    dropout: float = 0.4


class EmotionNet(nn.Module):
    """VGG-style CNN: 4 conv stages (BN + ReLU, max-pool) and an MLP head on the 3x3 map."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        in_ch = config.channels
        for width, n_convs in zip(config.widths, config.convs, strict=True):
            for _ in range(n_convs):
                layers += [
                    nn.Conv2d(in_ch, width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                ]
                in_ch = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        side = SIZE // 2 ** len(config.widths)
        self.trunk = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(config.dropout),
            nn.Linear(in_ch * side * side, config.hidden),
            nn.BatchNorm1d(config.hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
        )
        self.mode = config.mode
        self.channels = config.channels
        if config.mode == "fer":
            self.head: nn.Module = nn.Linear(config.hidden, len(EXPRESSIONS))
        else:
            self.head = nn.Linear(config.hidden, len(EMOTIC_CATEGORIES) + len(VAD_DIMENSIONS))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.head(self.trunk(self.features(x)))
        return out


class FerExport(nn.Module):
    """Image -> (expressions, emotions, vad); logits averaged over the image and its mirror."""

    bridge: Tensor
    vad_table: Tensor

    def __init__(self, net: EmotionNet) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("bridge", torch.tensor(BRIDGE, dtype=torch.float32))
        self.register_buffer("vad_table", torch.tensor(VAD_TABLE, dtype=torch.float32))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        logits = (self.net(x) + self.net(torch.flip(x, dims=[3]))) / 2
        expressions = torch.softmax(logits, dim=1)
        return expressions, expressions @ self.bridge, expressions @ self.vad_table


class EmoticExport(nn.Module):
    """Image -> (emotions, vad); sigmoid scores averaged over the image and its mirror."""

    def __init__(self, net: EmotionNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        scores = (torch.sigmoid(self.net(x)) + torch.sigmoid(self.net(torch.flip(x, [3])))) / 2
        n = len(EMOTIC_CATEGORIES)
        return scores[:, :n], scores[:, n:]


# ---------------------------------------------------------------- data


@dataclass
class Dataset:
    x: Tensor  # float [N,C,48,48], normalised
    y: Tensor  # int64 [N] (fer) or float [N,29] (emotic: 26 labels + 3 vad)


def normalise(images: np.ndarray) -> Tensor:
    """uint8 [N,H,W] or [N,H,W,3] -> float [N,C,48,48], x = (pixel*SCALE - MEAN)/STD."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float()
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    if x.shape[-2:] != (SIZE, SIZE):
        x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return ((x * SCALE - MEAN) / STD).contiguous()


def load_fer(path: Path, limit: int | None = None) -> Dataset:
    if not path.exists():
        raise SystemExit(f"FER2013 file not found: {path} (set SEED_FER2013_DIR or --data)")
    data = np.load(path)
    if tuple(str(c) for c in data["classes"]) != EXPRESSIONS:
        raise SystemExit(f"{path}: classes {list(data['classes'])} != {list(EXPRESSIONS)}")
    images, labels = data["images"], data["labels"].astype(np.int64)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return Dataset(normalise(images), torch.from_numpy(labels))


def load_emotic(path: Path, limit: int | None = None) -> Dataset:
    data = np.load(path)
    images, emotions, vad = data["images"], data["emotions"], data["vad"]
    if emotions.shape[1:] != (len(EMOTIC_CATEGORIES),) or vad.shape[1:] != (3,):
        raise SystemExit(f"{path}: need emotions [N,26] and vad [N,3]")
    if limit is not None:
        images, emotions, vad = images[:limit], emotions[:limit], vad[:limit]
    target = np.concatenate([emotions.astype(np.float32), vad.astype(np.float32)], axis=1)
    return Dataset(normalise(images), torch.from_numpy(target))


def split_off(data: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    order = torch.randperm(len(data.x), generator=torch.Generator().manual_seed(seed))
    n_val = max(1, int(len(order) * fraction))
    val, train = order[:n_val], order[n_val:]
    return Dataset(data.x[train], data.y[train]), Dataset(data.x[val], data.y[val])


def batches(n: int, size: int, generator: torch.Generator | None) -> Iterator[Tensor]:
    order = torch.randperm(n, generator=generator) if generator else torch.arange(n)
    for start in range(0, n, size):
        yield order[start : start + size]


def augment(x: Tensor, generator: torch.Generator) -> Tensor:
    """Mirror, rotate (+-10 deg), scale (0.9-1.1), shift (+-8 %) and erase a random patch."""
    n = x.shape[0]

    def uniform(low: float, high: float) -> Tensor:
        return torch.rand(n, generator=generator) * (high - low) + low

    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], torch.flip(x, dims=[3]), x)
    angle = uniform(-10, 10) * math.pi / 180
    scale = uniform(0.9, 1.1)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin, uniform(-0.08, 0.08)], dim=1),
            torch.stack([sin, cos, uniform(-0.08, 0.08)], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    return erase(x, generator, probability=0.25, side=12)


def erase(x: Tensor, generator: torch.Generator, probability: float, side: int) -> Tensor:
    n = x.shape[0]
    top = torch.randint(0, SIZE - side + 1, (n,), generator=generator)
    left = torch.randint(0, SIZE - side + 1, (n,), generator=generator)
    rows = torch.arange(SIZE)[None, :, None]
    cols = torch.arange(SIZE)[None, None, :]
    in_rows = (rows >= top[:, None, None]) & (rows < top[:, None, None] + side)
    in_cols = (cols >= left[:, None, None]) & (cols < left[:, None, None] + side)
    chosen = (torch.rand(n, generator=generator) < probability)[:, None, None]
    inside = in_rows & in_cols & chosen
    return x.masked_fill(inside[:, None], 0.0)


def class_weights(labels: Tensor, power: float = 0.5) -> Tensor:
    """(1/frequency)^power, scaled so the average weight per training image is 1."""
    counts = torch.bincount(labels, minlength=len(EXPRESSIONS)).float().clamp(min=1)
    weights = (counts.sum() / counts) ** power
    return weights * counts.sum() / (weights * counts).sum()


# ---------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainOptions:
    mode: str
    data: Path
    val_data: Path | None
    out: Path
    epochs: int
    limit: int | None
    batch_size: int
    lr: float
    weight_decay: float
    label_smoothing: float
    seed: int
    threads: int
    budget_minutes: float | None
    validate_from: float
    init: Path | None = None


def predict(net: nn.Module, x: Tensor, batch_size: int = 64) -> Tensor:
    """Eval-mode outputs averaged over the image and its mirror (as in the exported graph)."""
    net.eval()
    outs = []
    with torch.inference_mode():
        for index in batches(len(x), batch_size, None):
            chunk = x[index]
            outs.append((net(chunk) + net(torch.flip(chunk, dims=[3]))) / 2)
    return torch.cat(outs)


def fer_metrics(net: nn.Module, val: Dataset) -> dict[str, float]:
    logits = predict(net, val.x)
    loss = F.cross_entropy(logits, val.y).item()
    correct = logits.argmax(1) == val.y
    recalls = [correct[val.y == c].float().mean().item() for c in range(len(EXPRESSIONS))]
    return {
        "val_loss": loss,
        "val_acc": correct.float().mean().item(),
        "val_mean_recall": float(np.nanmean(recalls)),
    }


def emotic_metrics(net: nn.Module, val: Dataset) -> dict[str, float]:
    n = len(EMOTIC_CATEGORIES)
    out = predict(net, val.x)
    loss = emotic_loss(out, val.y).item()
    labels = (torch.sigmoid(out[:, :n]) > 0.5).float()
    return {
        "val_loss": loss,
        "val_acc": (labels == val.y[:, :n]).float().mean().item(),
        "val_vad_mae": (torch.sigmoid(out[:, n:]) - val.y[:, n:]).abs().mean().item(),
    }


def emotic_loss(out: Tensor, target: Tensor) -> Tensor:
    n = len(EMOTIC_CATEGORIES)
    labels = F.binary_cross_entropy_with_logits(out[:, :n], target[:, :n])
    vad = F.mse_loss(torch.sigmoid(out[:, n:]), target[:, n:])
    return labels + vad


class Progress:
    """Training progress in [0, 1]: steps over --epochs, or wall time over --budget-minutes
    when that comes first (so a busy machine still ends on time, with a full LR decay)."""

    def __init__(self, total_steps: int, budget_minutes: float | None) -> None:
        self.total_steps = total_steps
        self.budget_seconds = None if budget_minutes is None else budget_minutes * 60
        self.steps = 0
        self.started = time.monotonic()

    @property
    def fraction(self) -> float:
        done = self.steps / self.total_steps
        if self.budget_seconds is not None:
            done = max(done, (time.monotonic() - self.started) / self.budget_seconds)
        return min(1.0, done)

    @property
    def finished(self) -> bool:
        return self.fraction >= 1.0


def lr_factor(progress: float, warmup: float = 0.05) -> float:
    """Linear warm-up over the first 5 % of training, then cosine decay to 0."""
    if progress < warmup:
        return max(progress / warmup, 0.02)
    return 0.5 * (1 + math.cos(math.pi * (progress - warmup) / (1 - warmup)))


def load_datasets(opts: TrainOptions) -> tuple[Dataset, Dataset]:
    if opts.mode == "fer":
        train = load_fer(opts.data, opts.limit)
        val = load_fer(opts.val_data or opts.data.with_name("val.npz"))
        return train, val
    data = load_emotic(opts.data, opts.limit)
    if opts.val_data is not None:
        return data, load_emotic(opts.val_data)
    return split_off(data, 0.1, opts.seed)


LossFn = Callable[[Tensor, Tensor], Tensor]


def make_loss(opts: TrainOptions, train_set: Dataset) -> LossFn:
    if opts.mode != "fer":
        return emotic_loss
    weights = class_weights(train_set.y)
    print("class weights:", [round(w, 2) for w in weights.tolist()])

    def loss_fn(out: Tensor, y: Tensor) -> Tensor:
        return F.cross_entropy(out, y, weight=weights, label_smoothing=opts.label_smoothing)

    return loss_fn


def train_epoch(
    net: nn.Module,
    data: Dataset,
    *,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    peak_lr: float,
    progress: Progress,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One pass over data in a seeded random order (cut short when progress reaches 1);
    returns the mean training loss."""
    net.train()
    total, seen = 0.0, 0
    for index in batches(len(data.x), batch_size, generator):
        if progress.finished:
            break
        if len(index) < 2:  # BatchNorm cannot train on a batch of one
            continue
        for group in optimizer.param_groups:
            group["lr"] = peak_lr * lr_factor(progress.fraction)
        loss = loss_fn(net(augment(data.x[index], generator)), data.y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        progress.steps += 1
        total, seen = total + loss.item() * len(index), seen + len(index)
    return total / max(1, seen)


def format_row(row: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())


def train(opts: TrainOptions) -> Path:
    """Train, keeping the epoch with the best val accuracy in out/checkpoint.pt."""
    torch.manual_seed(opts.seed)
    torch.set_num_threads(opts.threads)
    generator = torch.Generator().manual_seed(opts.seed)
    train_set, val_set = load_datasets(opts)
    if opts.init is not None:
        net, started_from = load_checkpoint(opts.init)
        config = net.config
        print(f"continuing from {opts.init} (its epoch {started_from.get('epoch')})")
    else:
        config = ModelConfig(mode=opts.mode, channels=train_set.x.shape[1])
        net = EmotionNet(config)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"{opts.mode}: {len(train_set.x)} train, {len(val_set.x)} val, {n_params} params")
    loss_fn = make_loss(opts, train_set)
    metrics_fn = fer_metrics if opts.mode == "fer" else emotic_metrics
    steps = math.ceil(len(train_set.x) / opts.batch_size)
    optimizer = torch.optim.AdamW(net.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
    progress = Progress(steps * opts.epochs, opts.budget_minutes)
    opts.out.mkdir(parents=True, exist_ok=True)
    checkpoint = opts.out / "checkpoint.pt"
    best, history, epoch = -math.inf, [], 0
    started = time.monotonic()
    while not progress.finished:
        epoch, tick = epoch + 1, time.monotonic()
        train_loss = train_epoch(
            net,
            train_set,
            loss_fn=loss_fn,
            optimizer=optimizer,
            peak_lr=opts.lr,
            progress=progress,
            batch_size=opts.batch_size,
            generator=generator,
        )
        row: dict[str, Any] = {"epoch": epoch, "steps": progress.steps, "train_loss": train_loss}
        if progress.fraction >= opts.validate_from:
            row.update(metrics_fn(net, val_set))
        row["seconds"] = time.monotonic() - tick
        history.append(row)
        print(format_row(row), flush=True)
        if row.get("val_acc", -math.inf) > best:
            best = row["val_acc"]
            save_checkpoint(checkpoint, net, config, row)
    minutes = (time.monotonic() - started) / 60
    print(
        f"trained {epoch} epochs, {progress.steps} steps, {minutes:.1f} min; best {best:.4f}",
        flush=True,
    )
    (opts.out / "history.json").write_text(json.dumps(history, indent=1))
    return checkpoint


def save_checkpoint(path: Path, net: nn.Module, config: ModelConfig, row: dict[str, Any]) -> None:
    torch.save({"config": asdict(config), "state_dict": net.state_dict(), "epoch": row}, path)


def load_checkpoint(path: Path) -> tuple[EmotionNet, dict[str, Any]]:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    config = saved["config"]
    config = ModelConfig(
        **{**config, "widths": tuple(config["widths"]), "convs": tuple(config["convs"])}
    )
    net = EmotionNet(config)
    net.load_state_dict(saved["state_dict"])
    return net.eval(), saved["epoch"]


# ---------------------------------------------------------------- export


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(checkpoint: Path, out: Path) -> Path:
    """Write out/emotion26.onnx and its manifest out/emotion26.json; return the manifest path."""
    net, epoch = load_checkpoint(checkpoint)
    channels = net.channels
    wrapper: nn.Module = FerExport(net) if net.mode == "fer" else EmoticExport(net)
    outputs = ["expressions", "emotions", "vad"] if net.mode == "fer" else ["emotions", "vad"]
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{MODEL_NAME}.onnx"
    dummy = torch.zeros(2, channels, SIZE, SIZE)
    torch.onnx.export(
        wrapper.eval(),
        (dummy,),
        str(onnx_path),
        input_names=[INPUT_NAME],
        output_names=outputs,
        dynamic_axes={name: {0: "batch"} for name in [INPUT_NAME, *outputs]},
        opset_version=OPSET,
        dynamo=False,
    )
    widths = {
        "expressions": len(EXPRESSIONS),
        "emotions": len(EMOTIC_CATEGORIES),
        "vad": len(VAD_DIMENSIONS),
    }
    manifest = {
        "file": onnx_path.name,
        "sha256": sha256(onnx_path),
        "mode": net.mode,
        "opset": OPSET,
        "input": {
            "name": INPUT_NAME,
            "layout": "NCHW",
            "channels": channels,
            "height": SIZE,
            "width": SIZE,
            "color": "gray" if channels == 1 else "rgb",
            "scale": SCALE,
            "mean": MEAN,
            "std": STD,
        },
        "outputs": {name: {"name": name, "shape": ["N", widths[name]]} for name in outputs},
        "emotions": list(EMOTIC_CATEGORIES),
        "expressions": list(EXPRESSIONS) if net.mode == "fer" else None,
        "vad": list(VAD_DIMENSIONS),
        "checkpoint_epoch": epoch,
    }
    if net.mode != "fer":
        manifest["note"] = "emotic mode: no `expressions` output; emotions are a trained head"
    manifest_path = out / f"{MODEL_NAME}.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"exported {onnx_path} ({onnx_path.stat().st_size} bytes) and {manifest_path}")
    return manifest_path


# ---------------------------------------------------------------- evaluation


def onnx_session(onnx_path: Path, threads: int = 1) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def preprocess(images: np.ndarray, manifest: dict[str, Any]) -> np.ndarray:
    spec = manifest["input"]
    x = images.astype(np.float32)[:, None] * np.float32(spec["scale"])
    normalised: np.ndarray = ((x - spec["mean"]) / spec["std"]).astype(np.float32)
    return normalised


def evaluate(manifest_path: Path, val_path: Path, runs: int) -> dict[str, Any]:
    manifest = json.loads(manifest_path.read_text())
    onnx_path = manifest_path.parent / manifest["file"]
    if sha256(onnx_path) != manifest["sha256"]:
        raise SystemExit(f"{onnx_path}: sha256 differs from {manifest_path}")
    data = np.load(val_path)
    x, y = preprocess(data["images"], manifest), data["labels"].astype(np.int64)
    session = onnx_session(onnx_path, threads=1)
    name = manifest["outputs"]["expressions"]["name"]
    probs = np.concatenate(
        [session.run([name], {INPUT_NAME: x[i : i + 256]})[0] for i in range(0, len(x), 256)]
    )
    predicted = probs.argmax(1)
    k = len(EXPRESSIONS)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    recall = confusion.diagonal() / confusion.sum(1)
    return {
        "model": str(onnx_path),
        "data": str(val_path),
        "n": len(y),
        "accuracy": round(float((predicted == y).mean()), 4),
        "mean_recall": round(float(recall.mean()), 4),
        "per_class_recall": {
            c: round(float(r), 4) for c, r in zip(EXPRESSIONS, recall, strict=True)
        },
        "confusion_rows_true_cols_pred": confusion.tolist(),
        "latency_ms_batch1_1thread_median": latency_ms(session, x[:1], runs),
    }


def latency_ms(session: Any, one: np.ndarray, runs: int) -> float:
    for _ in range(10):
        session.run(None, {INPUT_NAME: one})
    times = []
    for _ in range(runs):
        tick = time.perf_counter()
        session.run(None, {INPUT_NAME: one})
        times.append(time.perf_counter() - tick)
    return round(float(np.median(times)) * 1000, 3)


# ---------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fer_dir = default_fer_dir()

    t = commands.add_parser("train", help="train, keep the best epoch on val, export ONNX")
    t.add_argument(
        "--mode",
        choices=["fer", "emotic"],
        default="fer",
        help="fer: 7 expressions + bridge (default); emotic: 26-category head",
    )
    t.add_argument("--data", type=Path, help=f"train npz (fer default {fer_dir}/train.npz)")
    t.add_argument(
        "--val-data",
        type=Path,
        help="val npz (fer: train's sibling val.npz; emotic: 10%% of --data held out)",
    )
    t.add_argument(
        "--out",
        type=Path,
        default=REPO / "models",
        help="where checkpoint.pt, history.json and the export go",
    )
    t.add_argument("--epochs", type=int, default=30, help="epochs (an upper bound with a budget)")
    t.add_argument("--limit", type=int, help="use only the first N training images (smoke)")
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument(
        "--lr", type=float, default=4e-3, help="peak learning rate (warm-up, then cosine)"
    )
    t.add_argument("--weight-decay", type=float, default=0.05)
    t.add_argument("--label-smoothing", type=float, default=0.1)
    t.add_argument("--seed", type=int, default=2013, help="seeds init, order and augmentation")
    t.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    t.add_argument(
        "--budget-minutes",
        type=float,
        help="stop after this many minutes even if --epochs are not done; the LR schedule "
        "then follows wall time, so the run is not bit-reproducible (the log gives the steps)",
    )
    t.add_argument(
        "--validate-from",
        type=float,
        default=0.0,
        help="validate (and checkpoint) only once this fraction of training is done",
    )
    t.add_argument("--no-export", action="store_true", help="only write checkpoint.pt")
    t.add_argument(
        "--init",
        type=Path,
        help="start from this checkpoint's weights (a second, gentler cycle: give a lower --lr)",
    )

    e = commands.add_parser("export", help="export a checkpoint to ONNX + manifest")
    e.add_argument("--checkpoint", type=Path, required=True)
    e.add_argument("--out", type=Path, default=REPO / "models")

    v = commands.add_parser("evaluate", help="score an exported fer model on val.npz (JSON)")
    v.add_argument("--model", type=Path, default=REPO / "models" / f"{MODEL_NAME}.json")
    v.add_argument("--val-data", type=Path, default=fer_dir / "val.npz")
    v.add_argument("--runs", type=int, default=200, help="latency runs (batch 1, 1 thread)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "train":
        if args.data is None:
            if args.mode != "fer":
                raise SystemExit("--data is required for --mode emotic")
            args.data = default_fer_dir() / "train.npz"
        opts = TrainOptions(
            **{k: v for k, v in vars(args).items() if k in TrainOptions.__dataclass_fields__}
        )
        checkpoint = train(opts)
        if not args.no_export:
            export(checkpoint, args.out)
    elif args.command == "export":
        export(args.checkpoint, args.out)
    else:
        print(json.dumps(evaluate(args.model, args.val_data, args.runs), indent=2))


if __name__ == "__main__":
    main()
