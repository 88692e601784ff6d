"""The checkpoint format: a folder with `model.safetensors` and `model.json`.

`model.json` (the model card) says what the weights are: task, architecture,
classes, input size, normalisation, training settings, figures, the data
fingerprint and software versions. A checkpoint may also hold the optimizer's
state for resuming (`optimizer.safetensors` and `training.json`). Nothing is
ever unpickled: tensors are safetensors, everything else is JSON.

Writing goes to a hidden folder beside the checkpoint, which replaces the old
one only once every file is complete, so a failed write leaves the old intact.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import sys
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save
from torch import nn

from engine import __version__
from engine.models.errors import (
    CheckpointError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CheckpointWriteError,
)
from engine.models.registry import IMAGENET_MEAN, IMAGENET_STD, build_model
from engine.models.tensors import (
    optimizer_from_files,
    optimizer_to_files,
    weights_of,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "model.json"
OPTIMIZER_FILE = "optimizer.safetensors"
TRAINING_FILE = "training.json"
# A training run's folder holds its best checkpoint and its last one.
BEST = "best"
LAST = "last"


@dataclass
class ModelCard:
    """What `model.json` says about the weights beside it."""

    task: str
    arch: str
    num_classes: int
    classes: list[str]
    input_size: int
    class_scheme: str = "all"
    scheme: dict | None = None
    mean: list[float] = field(default_factory=lambda: list(IMAGENET_MEAN))
    std: list[float] = field(default_factory=lambda: list(IMAGENET_STD))
    options: dict = field(default_factory=dict)
    inference: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    pretrained: str | None = None
    software: dict = field(default_factory=lambda: software_versions())
    created: str = field(default_factory=lambda: now_iso())
    epoch: int = 0
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict, path: Path) -> ModelCard:
        known = {f.name for f in fields(cls)}
        required = ("task", "arch", "num_classes", "classes", "input_size")
        missing = [name for name in required if name not in data]
        if missing:
            raise CheckpointError(
                f"lacks {', '.join(missing)}", path, "it is not a Cervix Studio model"
            )
        if data.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
            raise CheckpointError(
                f"was written by a newer Cervix Studio (format "
                f"{data['format_version']})",
                path,
                "update Cervix Studio to load this model",
            )
        return cls(**{key: value for key, value in data.items() if key in known})


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def software_versions() -> dict[str, str]:
    """Versions of the engine and of the libraries that shape the weights."""
    versions = {"engine": __version__, "python": sys.version.split()[0]}
    for package in (
        "torch",
        "torchvision",
        "timm",
        "segmentation-models-pytorch",
        "albumentations",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


@dataclass
class TrainingState:
    """What resuming needs beyond the weights: the optimizer, the epoch, the best."""

    optimizer: dict
    progress: dict  # epoch, best metric, grad scaler, anything JSON


def _write_file(path: Path, data: bytes) -> None:
    """Write and flush one file of a checkpoint to disk."""
    with open(path, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_checkpoint(
    folder: Path | str,
    model: nn.Module,
    card: ModelCard,
    training: TrainingState | None = None,
) -> Path:
    """Write a checkpoint folder; the old one is replaced only once all is written."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging = folder.parent / f".{folder.name}.writing-{tag}"
    try:
        staging.mkdir()
        weights = save(weights_of(model), metadata={"format": "pt"})
        _write_file(staging / WEIGHTS_FILE, weights)
        del weights
        _write_file(staging / CARD_FILE, _json_bytes(card.to_json()))
        if training is not None:
            tensors, plain = optimizer_to_files(training.optimizer)
            _write_file(staging / OPTIMIZER_FILE, save(tensors))
            progress = {"optimizer": plain, **training.progress}
            _write_file(staging / TRAINING_FILE, _json_bytes(progress))
        _fsync(staging)
    except (OSError, SafetensorError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        full = isinstance(error, OSError) and error.errno == errno.ENOSPC
        raise CheckpointWriteError(
            f"could not be written ({error})",
            folder,
            ("the disk is full; " if full else "")
            + "free some space or choose another --out; the previous checkpoint "
            "there is unchanged",
        ) from error

    old = folder.parent / f".{folder.name}.old-{tag}"
    if folder.exists():
        os.replace(folder, old)
    os.replace(staging, folder)
    _fsync(folder.parent)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    log.debug("Saved checkpoint %r (epoch %d)", str(folder), card.epoch)
    return folder


def update_card(folder: Path | str, card: ModelCard) -> None:
    """Replace `model.json` of an existing checkpoint, atomically."""
    folder = resolve_checkpoint(folder)
    staging = folder / f".{CARD_FILE}.writing-{os.getpid()}"
    try:
        _write_file(staging, _json_bytes(card.to_json()))
        os.replace(staging, folder / CARD_FILE)
    except OSError as error:
        staging.unlink(missing_ok=True)
        raise CheckpointWriteError(
            f"its model card could not be updated ({error})",
            folder,
            "free some space; the weights and the old card are unchanged",
        ) from error


def _recover_interrupted_swap(folder: Path) -> None:
    """Put back a checkpoint whose replacement stopped between its two renames."""
    if folder.exists():
        return
    for old in sorted(folder.parent.glob(f".{folder.name}.old-*")):
        if (old / CARD_FILE).exists() and (old / WEIGHTS_FILE).exists():
            log.warning("Restoring %r from an interrupted save", str(folder))
            os.replace(old, folder)
            return


def resolve_checkpoint(path: Path | str, which: str = BEST) -> Path:
    """The checkpoint folder at `path`, or its `best/` (or `last/`) inside a run."""
    path = Path(path).expanduser()
    for candidate in (path, path / which):
        _recover_interrupted_swap(candidate)
        if (candidate / CARD_FILE).is_file():
            return candidate
    raise CheckpointNotFoundError(
        f"holds no {CARD_FILE}",
        path,
        "give a checkpoint folder or the --out folder of a training run",
    )


def read_card(folder: Path | str) -> ModelCard:
    """The model card of a checkpoint folder (or of a run's best checkpoint)."""
    folder = resolve_checkpoint(folder)
    path = folder / CARD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CheckpointError(f"cannot be read ({error})", path) from error
    if not isinstance(data, dict):
        raise CheckpointError("is not a model card", path)
    return ModelCard.from_json(data, path)


def _check_tensors(model: nn.Module, weights_path: Path) -> None:
    """Refuse weights whose names or shapes differ from the model's, naming the
    first tensor that differs."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    try:
        with safe_open(weights_path, framework="pt") as stored:
            found = {
                name: tuple(stored.get_slice(name).get_shape())
                for name in stored.keys()
            }
    except (OSError, SafetensorError) as error:
        raise CheckpointError(f"cannot be read ({error})", weights_path) from error
    for name, shape in expected.items():
        if name not in found:
            extra = [key for key in found if key not in expected]
            also = f"; it has {extra[0]!r} instead" if extra else ""
            raise CheckpointMismatchError(
                f"has no tensor {name!r}, which the architecture needs{also}",
                weights_path,
                name,
            )
        if found[name] != shape:
            raise CheckpointMismatchError(
                f"tensor {name!r} has shape {list(found[name])}, the architecture "
                f"in {CARD_FILE} needs {list(shape)}",
                weights_path,
                name,
            )
    for name in found:
        if name not in expected:
            raise CheckpointMismatchError(
                f"has a tensor {name!r} that the architecture does not have",
                weights_path,
                name,
            )


def build_from_card(card: ModelCard) -> nn.Module:
    """The card's architecture with random weights."""
    return build_model(
        card.task,
        card.arch,
        card.num_classes,
        image_size=card.input_size,
        **card.options,
    )


def load_checkpoint(
    folder: Path | str, device: str | torch.device = "cpu"
) -> tuple[nn.Module, ModelCard]:
    """The model of a checkpoint, in eval mode on `device`, and its card."""
    folder = resolve_checkpoint(folder)
    card = read_card(folder)
    model = build_from_card(card)
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.is_file():
        raise CheckpointNotFoundError(f"has no {WEIGHTS_FILE}", folder)
    _check_tensors(model, weights_path)
    model.load_state_dict(load_file(weights_path, device="cpu"), strict=True)
    log.info("Loaded %s %s from %r", card.task, card.arch, str(folder))
    return model.to(device).eval(), card


def load_training_state(folder: Path | str) -> TrainingState:
    """The optimizer state and progress saved beside a checkpoint's weights."""
    folder = resolve_checkpoint(folder, LAST)
    if not (folder / TRAINING_FILE).is_file():
        raise CheckpointError(
            f"has no {TRAINING_FILE}; it cannot be resumed",
            folder,
            "resume from the --out folder of a training run",
        )
    try:
        progress = json.loads((folder / TRAINING_FILE).read_text(encoding="utf-8"))
        tensors = load_file(folder / OPTIMIZER_FILE, device="cpu")
    except (OSError, ValueError, SafetensorError) as error:
        raise CheckpointError(
            f"training state cannot be read ({error})", folder
        ) from error
    optimizer = optimizer_from_files(tensors, progress.pop("optimizer"))
    return TrainingState(optimizer=optimizer, progress=progress)
