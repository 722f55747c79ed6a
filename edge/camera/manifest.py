"""The emotion model's manifest (models/emotion26.json): the whole contract of the ONNX file.

x = (pixel * scale - mean) / std, per channel, NCHW; outputs `emotions` (26 EMOTIC
probabilities), `vad` (valence, arousal, dominance in [0, 1]) and, where the model has
them, `expressions` (the 7 FER2013 probabilities).
"""

import hashlib
import json
from pathlib import Path
from typing import Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from edge.camera.errors import ModelError
from edge.camera.paths import EMOTION_MANIFEST_FILE, find_model
from protocol.emotions import EMOTIC_CATEGORIES, EXPRESSIONS
from protocol.validation import summarise

Dim = int | str
"""An ONNX dimension: a size, or a name for one the model leaves free (the batch, "N")."""


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Contract):
    name: str
    layout: Literal["NCHW"]
    channels: Literal[1, 3]
    height: int = Field(ge=8, le=1024)
    width: int = Field(ge=8, le=1024)
    color: Literal["gray", "rgb"]
    scale: float
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @field_validator("mean", "std", mode="before")
    @classmethod
    def _one_value_for_all_channels(cls, value: object) -> object:
        return (value,) if isinstance(value, int | float) else value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.color == "gray") != (self.channels == 1):
            raise ValueError(f"color {self.color} with {self.channels} channels")
        for field, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, self.channels):
                raise ValueError(f"{field} needs 1 or {self.channels} values")
        if any(s == 0 for s in self.std):
            raise ValueError("std must not be 0")
        return self

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.channels, self.height, self.width


class OutputSpec(_Contract):
    name: str
    shape: tuple[Dim, ...]


class OutputsSpec(_Contract):
    emotions: OutputSpec
    vad: OutputSpec
    expressions: OutputSpec | None = None


class Manifest(BaseModel):
    """Extra top-level keys (version, metrics, licence…) are allowed and ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    input: InputSpec
    outputs: OutputsSpec
    emotions: tuple[str, ...]
    expressions: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _names_are_the_protocol_s(self) -> Self:
        if self.emotions != EMOTIC_CATEGORIES:
            raise ValueError("emotions must be the 26 EMOTIC categories in protocol order")
        if self.outputs.expressions is not None and self.expressions != EXPRESSIONS:
            raise ValueError(f"expressions must be {', '.join(EXPRESSIONS)} in this order")
        for name, size in (("emotions", 26), ("vad", 3), ("expressions", 7)):
            spec: OutputSpec | None = getattr(self.outputs, name)
            if spec is not None and (len(spec.shape) != 2 or spec.shape[-1] != size):
                raise ValueError(f"outputs.{name}.shape must be [N, {size}], not {spec.shape}")
        return self


def load_manifest(path: Path) -> tuple[Manifest, Path]:
    """The validated manifest and the path of the model file it pins (sha256 checked)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest.model_validate(document)
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: no such emotion model manifest") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a readable JSON manifest: {exc}") from exc
    except ValidationError as exc:
        problems = summarise(exc, root="<file>", separator="\n", indent="  ")
        raise ModelError(f"{path}: invalid emotion model manifest:\n{problems}") from exc
    model = path.parent / manifest.file
    if not model.is_file():
        raise ModelError(f"{path}: its model file {model} does not exist")
    actual = hashlib.sha256(model.read_bytes()).hexdigest()
    if actual != manifest.sha256:
        raise ModelError(
            f"{model}: sha256 {actual} differs from the manifest's {manifest.sha256}; "
            "the model and its manifest do not belong together"
        )
    return manifest, model


def find_manifest(configured: Path | None) -> Path:
    path = find_model(configured, EMOTION_MANIFEST_FILE)
    if path is None:
        raise ModelError(
            f"no emotion model: put {EMOTION_MANIFEST_FILE} and its model in models/, "
            "or set camera.emotion_manifest"
        )
    return path
