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


def augment(x: Tensor, generator: torch.Generator, *, robust: bool = True) -> Tensor:
    """Geometric (mirror, rotation, scale, shift, a yaw-like squeeze), then, with `robust`,
    photometric (lighting, contrast, gamma, blur, low resolution, noise, JPEG) and occlusion
    (a random patch, glasses, a mask): the faces a kiosk sees are not FER2013's web photos."""
    x = geometric(x, generator, wide=robust)
    if not robust:
        return erase(x, generator, probability=0.25, side=12)
    pixels = photometric(x * STD + MEAN, generator)
    pixels = occlude(pixels, generator)
    return erase((pixels - MEAN) / STD, generator, probability=0.2, side=12)


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> Tensor:
    return torch.rand(n, generator=generator) * (high - low) + low


def _chosen(n: int, probability: float, generator: torch.Generator) -> Tensor:
    """A [N,1,1,1] mask of the images an augmentation applies to."""
    return (torch.rand(n, generator=generator) < probability)[:, None, None, None]


def geometric(x: Tensor, generator: torch.Generator, *, wide: bool) -> Tensor:
    """Mirror, rotate (+-10 deg; +-18 wide), scale (0.9-1.1; 0.85-1.15), shift (+-8 %;
    +-10 %) and, wide, squeeze the width by up to 15 % (a face turned a little)."""
    n = x.shape[0]

    def uniform(low: float, high: float) -> Tensor:
        return _uniform(n, low, high, generator)

    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], torch.flip(x, dims=[3]), x)
    degrees, scales, shift = (18, (0.85, 1.15), 0.10) if wide else (10, (0.9, 1.1), 0.08)
    angle = uniform(-degrees, degrees) * math.pi / 180
    scale = uniform(*scales)
    squeeze = uniform(1.0, 1 / 0.85) if wide else torch.ones(n)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos * squeeze, -sin, uniform(-shift, shift)], dim=1),
            torch.stack([sin * squeeze, cos, uniform(-shift, shift)], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def photometric(p: Tensor, generator: torch.Generator) -> Tensor:
    """Pixels in [0, 1] -> the same faces under other light and through worse cameras."""
    n = p.shape[0]
    mean = p.mean(dim=(1, 2, 3), keepdim=True)
    contrast = _uniform(n, 0.5, 1.5, generator)[:, None, None, None]
    brightness = _uniform(n, -0.25, 0.25, generator)[:, None, None, None]
    lit = (p - mean) * contrast + mean + brightness
    p = torch.where(_chosen(n, 0.8, generator), lit, p).clamp(0, 1)
    gamma = torch.exp(_uniform(n, -0.7, 0.7, generator))[:, None, None, None]
    p = torch.where(_chosen(n, 0.4, generator), p.clamp(min=1e-4) ** gamma, p)
    p = torch.where(_chosen(n, 0.2, generator), blur(p, float(_uniform(1, 0.5, 1.6, generator))), p)
    side = int(torch.randint(14, 33, (1,), generator=generator))
    low = F.interpolate(
        F.interpolate(p, size=(side, side), mode="area"),
        size=(SIZE, SIZE),
        mode="bilinear",
        align_corners=False,
    )
    p = torch.where(_chosen(n, 0.2, generator), low, p)
    sigma = _uniform(n, 0.0, 0.06, generator)[:, None, None, None]
    noisy = p + torch.randn(p.shape, generator=generator) * sigma
    p = torch.where(_chosen(n, 0.3, generator), noisy, p).clamp(0, 1)
    return jpeg(p, _chosen(n, 0.2, generator).flatten(), generator)


def blur(p: Tensor, sigma: float) -> Tensor:
    """A Gaussian blur of each channel."""
    radius = max(1, math.ceil(2 * sigma))
    steps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    taps = torch.exp(-(steps**2) / (2 * sigma**2))
    taps = taps / taps.sum()
    channels = p.shape[1]
    padded = F.pad(p, (radius, radius, radius, radius), mode="replicate")
    rows = F.conv2d(padded, taps.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(rows, taps.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def jpeg(p: Tensor, chosen: Tensor, generator: torch.Generator) -> Tensor:
    """JPEG-compress the chosen faces at quality 15-60 (OpenCV, as a camera's encoder would)."""
    import cv2  # noqa: PLC0415 (only training needs it here)

    out = p.clone()
    for index in torch.nonzero(chosen).flatten().tolist():
        quality = int(torch.randint(15, 61, (1,), generator=generator))
        image = (p[index].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED).reshape(image.shape)
            out[index] = torch.from_numpy(decoded).permute(2, 0, 1).float() / 255
    return out


def occlude(p: Tensor, generator: torch.Generator) -> Tensor:
    """Dark glasses over the eyes (10 %) or a light mask from nose to chin (10 %)."""
    n = p.shape[0]
    rows = torch.arange(SIZE, dtype=torch.float32)[None, None, :, None]
    cols = torch.arange(SIZE, dtype=torch.float32)[None, None, None, :]
    eye_row = _uniform(n, 15, 21, generator)[:, None, None, None]
    centre = SIZE / 2
    lens = (((cols - centre).abs() - 10) / 7) ** 2 + ((rows - eye_row) / 4.5) ** 2 <= 1
    bridge = ((rows - eye_row).abs() <= 1) & ((cols - centre).abs() <= 4)
    shade = _uniform(n, 0.0, 0.25, generator)[:, None, None, None]
    glasses = torch.where(lens | bridge, shade.expand_as(p), p)
    top = _uniform(n, 28, 34, generator)[:, None, None, None]
    mask_shape = (rows >= top) & ((cols - centre).abs() <= 20 - (rows - top) * 0.3)
    cloth = _uniform(n, 0.6, 0.95, generator)[:, None, None, None]
    masked = torch.where(mask_shape, cloth.expand_as(p), p)
    p = torch.where(_chosen(n, 0.1, generator), glasses, p)
    return torch.where(_chosen(n, 0.1, generator), masked, p)


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
    resume: bool = False
    augmentation: str = "robust"


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

    def __init__(
        self,
        total_steps: int,
        budget_minutes: float | None,
        *,
        steps: int = 0,
        elapsed_s: float = 0,
    ) -> None:
        self.total_steps = total_steps
        self.budget_seconds = None if budget_minutes is None else budget_minutes * 60
        self.steps = steps
        self.started = time.monotonic() - elapsed_s

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

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
    robust: bool,
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
        loss = loss_fn(net(augment(data.x[index], generator, robust=robust)), data.y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        progress.steps += 1
        total, seen = total + loss.item() * len(index), seen + len(index)
    return total / max(1, seen)


def format_row(row: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())


def train(opts: TrainOptions) -> Path:
    """Train, keeping the epoch with the best val accuracy in out/checkpoint.pt and the
    latest state in out/last.pt (so `--resume` goes on where a stopped run left off)."""
    torch.manual_seed(opts.seed)
    torch.set_num_threads(opts.threads)
    generator = torch.Generator().manual_seed(opts.seed)
    train_set, val_set = load_datasets(opts)
    last = opts.out / "last.pt"
    resumed = torch.load(last, map_location="cpu", weights_only=False) if opts.resume else None
    if resumed is not None:
        net = EmotionNet(config_from(resumed["config"]))
        net.load_state_dict(resumed["state_dict"])
        print(f"resuming {last} after epoch {resumed['epoch']} ({resumed['steps']} steps)")
    elif opts.init is not None:
        net, started_from = load_checkpoint(opts.init)
        print(f"continuing from {opts.init} (its epoch {started_from.get('epoch')})")
    else:
        net = EmotionNet(ModelConfig(mode=opts.mode, channels=train_set.x.shape[1]))
    config = net.config
    n_params = sum(p.numel() for p in net.parameters())
    print(
        f"{opts.mode}: {len(train_set.x)} train, {len(val_set.x)} val, {n_params} params, "
        f"{opts.augmentation} augmentation"
    )
    loss_fn = make_loss(opts, train_set)
    metrics_fn = fer_metrics if opts.mode == "fer" else emotic_metrics
    steps = math.ceil(len(train_set.x) / opts.batch_size)
    optimizer = torch.optim.AdamW(net.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
    progress = Progress(steps * opts.epochs, opts.budget_minutes)
    best, history, epoch = -math.inf, [], 0
    if resumed is not None:
        optimizer.load_state_dict(resumed["optimizer"])
        generator.set_state(resumed["generator"])
        progress = Progress(
            steps * opts.epochs,
            opts.budget_minutes,
            steps=resumed["steps"],
            elapsed_s=resumed["elapsed_s"],
        )
        best, history, epoch = resumed["best"], resumed["history"], resumed["epoch"]
    opts.out.mkdir(parents=True, exist_ok=True)
    checkpoint = opts.out / "checkpoint.pt"
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
            robust=opts.augmentation == "robust",
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
        state = {
            "config": asdict(config),
            "state_dict": net.state_dict(),
            "optimizer": optimizer.state_dict(),
            "generator": generator.get_state(),
            "steps": progress.steps,
            "elapsed_s": progress.elapsed_s,
            "epoch": epoch,
            "best": best,
            "history": history,
        }
        torch.save(state, last.with_suffix(".tmp"))
        last.with_suffix(".tmp").replace(last)
    print(
        f"trained {epoch} epochs, {progress.steps} steps, {progress.elapsed_s / 60:.1f} min; "
        f"best {best:.4f}",
        flush=True,
    )
    (opts.out / "history.json").write_text(json.dumps(history, indent=1))
    return checkpoint


def save_checkpoint(path: Path, net: nn.Module, config: ModelConfig, row: dict[str, Any]) -> None:
    torch.save({"config": asdict(config), "state_dict": net.state_dict(), "epoch": row}, path)


def load_checkpoint(path: Path) -> tuple[EmotionNet, dict[str, Any]]:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    net = EmotionNet(config_from(saved["config"]))
    net.load_state_dict(saved["state_dict"])
    return net.eval(), saved["epoch"]


def config_from(saved: dict[str, Any]) -> ModelConfig:
    return ModelConfig(
        **{**saved, "widths": tuple(saved["widths"]), "convs": tuple(saved["convs"])}
    )


def recover(manifest_path: Path, data: Path, out: Path, calibration_images: int = 4096) -> Path:
    """A trainable checkpoint from an exported fer model (the ONNX graph holds its weights,
    each BatchNorm folded into its convolution). Each conv gets the folded weights and a
    BatchNorm set from the conv's own output statistics on training images, so the network
    computes what the graph does in eval mode and nearly so in train mode; out/checkpoint.pt."""
    import onnx  # noqa: PLC0415 (only recovery reads graphs)
    from onnx import numpy_helper  # noqa: PLC0415

    manifest = json.loads(manifest_path.read_text())
    graph = onnx.load(str(manifest_path.parent / manifest["file"])).graph
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    net = EmotionNet(ModelConfig(mode="fer", channels=1))
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    norms = [m for m in net.features if isinstance(m, nn.BatchNorm2d)]
    conv_nodes = [n for n in graph.node if n.op_type == "Conv"][: len(convs)]
    state = {k.removeprefix("net."): v for k, v in weights.items() if k.startswith("net.")}
    net.load_state_dict(state, strict=False)
    outputs: list[Tensor] = []
    hooks = [c.register_forward_hook(lambda _m, _i, o: outputs.append(o)) for c in convs]
    with torch.no_grad():
        for conv, norm, node in zip(convs, norms, conv_nodes, strict=True):
            conv.weight.copy_(weights[node.input[1]])
            norm.reset_parameters()
            norm.bias.copy_(weights[node.input[2]])
            norm.running_var.fill_(1 - norm.eps)
        net.eval()(load_fer(data, calibration_images).x)
        for norm, output, node in zip(norms, outputs, conv_nodes, strict=True):
            mean = output.mean(dim=(0, 2, 3))
            std = output.std(dim=(0, 2, 3)).clamp(min=1e-3)
            norm.weight.copy_(std)
            norm.bias.copy_(mean + weights[node.input[2]])
            norm.running_mean.copy_(mean)
            norm.running_var.copy_(std**2 - norm.eps)
    for hook in hooks:
        hook.remove()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "checkpoint.pt"
    save_checkpoint(path, net, net.config, {"recovered_from": manifest["sha256"]})
    print(f"recovered {path} from {manifest_path} (sha256 {manifest['sha256'][:12]})")
    return path


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
    t.add_argument(
        "--resume",
        action="store_true",
        help="go on from OUT/last.pt (weights, optimizer, schedule, elapsed budget) after a stop",
    )
    t.add_argument(
        "--augmentation",
        choices=["robust", "classic"],
        default="robust",
        help="robust (default): also lighting, contrast, gamma, blur, low resolution, noise, "
        "JPEG, glasses and masks; classic: mirror, rotate, scale, shift, erase",
    )

    r = commands.add_parser(
        "recover", help="a trainable checkpoint from an exported fer model (to fine-tune it)"
    )
    r.add_argument("--model", type=Path, default=REPO / "models" / f"{MODEL_NAME}.json")
    r.add_argument("--data", type=Path, default=fer_dir / "train.npz", help="for calibration")
    r.add_argument("--out", type=Path, required=True, help="folder for checkpoint.pt")

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
    elif args.command == "recover":
        recover(args.model, args.data, args.out)
    else:
        print(json.dumps(evaluate(args.model, args.val_data, args.runs), indent=2))


if __name__ == "__main__":
    main()
