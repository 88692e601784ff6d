"""One predictor per model: a checkpoint loaded for inference, fed RGB pixels.

Each predictor prepares its input exactly as training did (the card's
normalisation and input size, crops resized the same way) and runs the model
under `torch.inference_mode()` on the device chosen as training chooses it:
CUDA, then Apple's MPS, then the CPU, unless one is given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from engine.errors import CervixError
from engine.models import Instances, ModelCard, load_checkpoint, postprocess
from engine.models.unet import SIZE_MULTIPLE
from engine.training.data import normalise
from engine.training.distributed import choose_device

log = logging.getLogger(__name__)

DEFAULT_CELL_MARGIN = 0.15  # training's default margin around a cell's box


class InferenceError(CervixError):
    """Models or inputs that cannot be used for inference as asked."""


def inference_device(requested: str | torch.device | None = "auto") -> torch.device:
    """CUDA, then MPS, then the CPU; or the device asked for, if it exists here."""
    if isinstance(requested, torch.device):
        return requested
    try:
        device = choose_device(requested or "auto")
    except RuntimeError as error:
        raise InferenceError(
            f"unknown device {requested!r} ({error})",
            hint="use auto, cpu, cuda, cuda:1 or mps",
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InferenceError(
            f"device {requested!r} was asked for, but CUDA is not available here",
            hint="use --device auto or cpu",
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InferenceError(
            "device 'mps' was asked for, but MPS is not available here",
            hint="use --device auto or cpu",
        )
    return device


def checkpoint_name(folder: Path) -> str:
    """A short name for a checkpoint: its folder, or its run's for best/ and last/."""
    folder = Path(folder)
    if folder.name in ("best", "last") and folder.parent.name:
        return folder.parent.name
    return folder.name


class Predictor:
    """A model of one task, in eval mode on its device, with its card."""

    task = ""
    default_batch_size = 8

    def __init__(
        self,
        model: nn.Module,
        card: ModelCard,
        device: torch.device | str = "cpu",
        folder: Path | None = None,
        batch_size: int | None = None,
    ):
        if card.task != self.task:
            raise InferenceError(
                f"is a {card.task} model, not a {self.task} model",
                folder,
                f"give a {self.task} checkpoint here",
            )
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.card = card
        self.folder = Path(folder) if folder is not None else None
        self.batch_size = max(1, int(batch_size or self.default_batch_size))

    @classmethod
    def from_checkpoint(
        cls,
        folder: Path | str,
        device: str | torch.device | None = "auto",
        batch_size: int | None = None,
    ):
        """The predictor of a checkpoint folder (or of a training run's best)."""
        from engine.models import resolve_checkpoint

        device = inference_device(device)
        resolved = resolve_checkpoint(folder)
        model, card = load_checkpoint(resolved, device)
        return cls(model, card, device, resolved, batch_size)

    @property
    def name(self) -> str:
        return checkpoint_name(self.folder) if self.folder else self.card.arch

    @property
    def input_size(self) -> int:
        return int(self.card.input_size)

    def _batches(self, count: int):
        for start in range(0, count, self.batch_size):
            yield slice(start, min(start + self.batch_size, count))

    def _normalised(self, pixels: np.ndarray) -> torch.Tensor:
        """(N, H, W, 3) uint8 as normalised (N, 3, H, W) floats on the device."""
        tensor = torch.from_numpy(np.ascontiguousarray(pixels)).to(self.device)
        return normalise(tensor, tuple(self.card.mean), tuple(self.card.std))


def _stack(images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    if isinstance(images, np.ndarray):
        if images.ndim == 3:
            images = images[None]
        return images
    return np.stack(list(images)) if len(images) else np.zeros((0, 1, 1, 3), np.uint8)


class ClassifierPredictor(Predictor):
    """Class probabilities of cell crops."""

    task = "classifier"
    default_batch_size = 32

    @property
    def classes(self) -> list[str]:
        return list(self.card.classes)

    @property
    def cell_margin(self) -> float:
        """The margin around a cell's box that training cut its crops with."""
        return float(self.card.training.get("cell_margin", DEFAULT_CELL_MARGIN))

    def prepare_crop(self, crop: np.ndarray) -> np.ndarray:
        """A crop resized to the input size, as training resized its crops."""
        size = self.input_size
        if crop.shape[:2] == (size, size):
            return crop
        shrink = max(crop.shape[:2]) > size
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        return cv2.resize(crop, (size, size), interpolation=interpolation)

    def predict_crops(self, crops: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """(N, C) softmax probabilities of RGB uint8 crops, in batches."""
        crops = _stack([self.prepare_crop(np.asarray(c)) for c in crops])
        results = []
        with torch.inference_mode():
            for part in self._batches(len(crops)):
                logits = self.model(self._normalised(crops[part])).float()
                results.append(torch.softmax(logits, dim=1).cpu().numpy())
        if not results:
            return np.zeros((0, len(self.classes)), np.float32)
        return np.concatenate(results)


class UNetPredictor(Predictor):
    """Cell and nucleus probabilities of image tiles."""

    task = "unet"

    @property
    def threshold(self) -> float:
        return float(self.card.inference.get("threshold", 0.5))

    def predict_tiles(self, tiles: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """(N, 2, H, W) sigmoid probabilities (cell, nucleus) of RGB uint8 tiles.

        Tiles are padded at the bottom and right to a multiple of 32 by repeating
        the edge, as training's validation did, and the padding is cut off again.
        """
        tiles = _stack(tiles)
        count, height, width = tiles.shape[:3]
        padded_h = -(-height // SIZE_MULTIPLE) * SIZE_MULTIPLE
        padded_w = -(-width // SIZE_MULTIPLE) * SIZE_MULTIPLE
        if (padded_h, padded_w) != (height, width):
            pad = ((0, 0), (0, padded_h - height), (0, padded_w - width), (0, 0))
            tiles = np.pad(tiles, pad, mode="edge")
        results = []
        with torch.inference_mode():
            for part in self._batches(count):
                logits = self.model(self._normalised(tiles[part])).float()
                probabilities = torch.sigmoid(logits[:, :, :height, :width])
                results.append(probabilities.cpu().numpy())
        if not results:
            return np.zeros((0, 2, height, width), np.float32)
        return np.concatenate(results)


class MaskRCNNPredictor(Predictor):
    """Cell instances of image tiles, kept at the card's score and mask thresholds."""

    task = "maskrcnn"
    default_batch_size = 4

    def __init__(self, *args, score_threshold=None, mask_threshold=None, **kwargs):
        super().__init__(*args, **kwargs)
        settings = self.card.inference
        self.score_threshold = float(
            settings.get("score_threshold", 0.5)
            if score_threshold is None
            else score_threshold
        )
        self.mask_threshold = float(
            settings.get("mask_threshold", 0.5)
            if mask_threshold is None
            else mask_threshold
        )

    @property
    def classes(self) -> list[str]:
        return list(self.card.classes)

    @contextmanager
    def _dropping_before_masks(self):
        """Let the model itself drop the boxes below the score threshold, before
        its mask head and before pasting masks into the tile, rather than keep
        its default 0.05 and paste up to a hundred masks only to drop them.

        The model keeps scores strictly above its threshold, so it is given the
        float32 just below ours: the instances kept are exactly those scoring at
        least the threshold, as `postprocess` keeps them. A lower-scoring box
        never suppresses a higher-scoring one in non-maximum suppression, so
        nothing that is kept changes. The model's own threshold is put back
        afterwards, for whoever else uses the model.
        """
        heads = getattr(self.model, "roi_heads", None)
        if heads is None:
            yield
            return
        before = heads.score_thresh
        heads.score_thresh = float(
            np.nextafter(np.float32(self.score_threshold), np.float32(-1))
        )
        try:
            yield
        finally:
            heads.score_thresh = before

    def predict_tiles(
        self, tiles: Sequence[np.ndarray] | np.ndarray
    ) -> list[Instances]:
        """Per tile, the instances scoring at least the score threshold."""
        tiles = _stack(tiles)
        found: list[Instances] = []
        with torch.inference_mode(), self._dropping_before_masks():
            for part in self._batches(len(tiles)):
                pixels = torch.from_numpy(np.ascontiguousarray(tiles[part]))
                images = pixels.to(self.device).permute(0, 3, 1, 2).float().div_(255.0)
                outputs = self.model(list(images))
                found.extend(
                    postprocess(output, self.score_threshold, self.mask_threshold)
                    for output in outputs
                )
        return found


PREDICTOR_TYPES: dict[str, type[Predictor]] = {
    "classifier": ClassifierPredictor,
    "unet": UNetPredictor,
    "maskrcnn": MaskRCNNPredictor,
}


def load_predictor(
    folder: Path | str,
    device: str | torch.device | None = "auto",
    batch_size: int | None = None,
) -> Predictor:
    """The predictor of whichever task a checkpoint holds."""
    from engine.models import read_card, resolve_checkpoint

    resolved = resolve_checkpoint(folder)
    task = read_card(resolved).task
    if task not in PREDICTOR_TYPES:
        raise InferenceError(f"holds a model of unknown task {task!r}", resolved)
    return PREDICTOR_TYPES[task].from_checkpoint(resolved, device, batch_size)
