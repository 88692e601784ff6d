"""The prediction store: what the models saw, per model run and per image.

Model output never mixes with the reviewer's annotations. For a dataset it
lives in `<dataset>/.cervix/predictions/<run>/`; for a slide opened on its own,
in a `<slide>.cervix/predictions/<run>/` folder beside it. Per image (`key`,
which may contain `/`):

- `<key>.cells.json`: the predicted cells (outline, nucleus, class
  probabilities, predicted class, score), with the models that produced them;
- `<key>.mask.png` or `<key>.mask.ome.tif`: the U-Net's cell (red channel) and
  nucleus (green channel) probabilities as 0-255, the TIFF form pyramidal for
  slides, both readable through `engine.images.open_image`. A slide's mask
  keeps the U-Net's own resolution when that is coarser than the slide (its
  size is the slide's times the U-Net's scale, its pixel size in the OME
  metadata); `engine.review.unet_mask.UnetMask` reads it in the slide's pixels;
- `<key>.gradcam.png` or `<key>.gradcam.ome.tif`: the classifier's class
  activation map in the red channel, same convention; a slide's at a quarter
  of the slide's pixels.

A run's name is chosen by whoever runs the models (e.g. the checkpoint's
folder name); `runs()` lists what is stored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from engine.annotations.project import PROJECT_DIR, atomic_write, atomic_write_json
from engine.errors import CervixError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MASK_SUFFIXES = (".mask.ome.tif", ".mask.png")
GRADCAM_SUFFIXES = (".gradcam.ome.tif", ".gradcam.png")


class PredictionStoreError(CervixError):
    """A stored prediction that cannot be read or written."""


@dataclass
class PredictedCell:
    """One cell as the models see it, in the image's level-0 pixel coordinates."""

    id: int
    cytoplasm: np.ndarray
    nucleus: np.ndarray | None = None
    score: float = 1.0
    probabilities: dict[str, float] | None = None
    predicted_class: str | None = None
    source: str = "maskrcnn"  # the model that drew the outline

    def __post_init__(self) -> None:
        self.cytoplasm = np.asarray(self.cytoplasm, dtype=np.float64).reshape(-1, 2)
        if self.nucleus is not None:
            self.nucleus = np.asarray(self.nucleus, dtype=np.float64).reshape(-1, 2)

    def abnormal_probability(self, abnormal_classes: set[str]) -> float:
        """The summed probability of the abnormal classes (0 without a classifier)."""
        if not self.probabilities:
            return 0.0
        return float(
            sum(p for name, p in self.probabilities.items() if name in abnormal_classes)
        )

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "cytoplasm": np.round(self.cytoplasm, 2).tolist(),
            "nucleus": None
            if self.nucleus is None
            else np.round(self.nucleus, 2).tolist(),
            "score": round(float(self.score), 5),
            "probabilities": None
            if self.probabilities is None
            else {k: round(float(v), 5) for k, v in self.probabilities.items()},
            "predicted_class": self.predicted_class,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict) -> PredictedCell:
        return cls(
            id=int(data["id"]),
            cytoplasm=np.array(data["cytoplasm"], dtype=np.float64),
            nucleus=None
            if data.get("nucleus") is None
            else np.array(data["nucleus"], dtype=np.float64),
            score=float(data.get("score", 1.0)),
            probabilities=data.get("probabilities"),
            predicted_class=data.get("predicted_class"),
            source=str(data.get("source", "maskrcnn")),
        )


@dataclass
class ImagePredictions:
    """Everything one run predicted for one image."""

    image_key: str
    image_size: tuple[int, int]
    cells: list[PredictedCell] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # task -> checkpoint
    classes: list[str] = field(default_factory=list)
    created: str = ""

    def to_json(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "image": self.image_key,
            "image_size": list(self.image_size),
            "models": self.models,
            "classes": self.classes,
            "created": self.created,
            "cells": [cell.to_json() for cell in self.cells],
        }

    @classmethod
    def from_json(cls, data: dict) -> ImagePredictions:
        return cls(
            image_key=str(data["image"]),
            image_size=tuple(data["image_size"]),
            cells=[PredictedCell.from_json(cell) for cell in data.get("cells", [])],
            models=dict(data.get("models", {})),
            classes=list(data.get("classes", [])),
            created=str(data.get("created", "")),
        )


class PredictionStore:
    """Read and write model output under one `predictions/` folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @classmethod
    def for_dataset(cls, dataset_root: Path) -> PredictionStore:
        return cls(Path(dataset_root) / PROJECT_DIR / "predictions")

    @classmethod
    def for_slide(cls, slide_path: Path) -> PredictionStore:
        slide_path = Path(slide_path)
        return cls(slide_path.with_name(slide_path.name + ".cervix") / "predictions")

    def runs(self) -> list[str]:
        """The stored runs, newest first."""
        if not self.root.is_dir():
            return []
        folders = [path for path in self.root.iterdir() if path.is_dir()]
        folders.sort(key=lambda path: path.stat().st_mtime, reverse=True)
        return [path.name for path in folders]

    def _path(self, run: str, image_key: str, suffix: str) -> Path:
        if not run or "/" in run or run.startswith("."):
            raise ValueError(f"a run name is one plain folder name, not {run!r}")
        return self.root / run / f"{image_key}{suffix}"

    # -- cells -------------------------------------------------------------------

    def cells_path(self, run: str, image_key: str) -> Path:
        """Where the predicted cells of an image go (`<key>.cells.json`)."""
        return self._path(run, image_key, ".cells.json")

    def save_cells(self, run: str, predictions: ImagePredictions) -> Path:
        path = self._path(run, predictions.image_key, ".cells.json")
        atomic_write_json(path, predictions.to_json())
        return path

    def load_cells(self, run: str, image_key: str) -> ImagePredictions | None:
        """The stored cells, or None when this run has none for the image."""
        path = self._path(run, image_key, ".cells.json")
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format_version", 1) > FORMAT_VERSION:
                raise PredictionStoreError(
                    "was written by a newer Cervix Studio",
                    path,
                    "update Cervix Studio or run the models again",
                )
            return ImagePredictions.from_json(data)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise PredictionStoreError(
                f"cannot be read ({error})", path, "run the models on this image again"
            ) from None

    def images_with_cells(self, run: str) -> list[str]:
        folder = self.root / run
        suffix = ".cells.json"
        return sorted(
            str(path.relative_to(folder))[: -len(suffix)]
            for path in folder.rglob(f"*{suffix}")
        )

    # -- rasters -----------------------------------------------------------------

    def mask_path(self, run: str, image_key: str, pyramidal: bool = False) -> Path:
        """Where the U-Net mask goes: a PNG, or a pyramidal OME-TIFF for slides."""
        suffix = MASK_SUFFIXES[0] if pyramidal else MASK_SUFFIXES[1]
        return self._path(run, image_key, suffix)

    def gradcam_path(self, run: str, image_key: str, pyramidal: bool = False) -> Path:
        suffix = GRADCAM_SUFFIXES[0] if pyramidal else GRADCAM_SUFFIXES[1]
        return self._path(run, image_key, suffix)

    def save_mask(self, run: str, image_key: str, probabilities: np.ndarray) -> Path:
        """Store (H, W, 2) cell and nucleus probabilities in [0, 1] as a PNG."""
        channels = _to_uint8(probabilities, 2)
        return self._save_png(self.mask_path(run, image_key), channels)

    def save_gradcam(self, run: str, image_key: str, heatmap: np.ndarray) -> Path:
        """Store an (H, W) class activation map in [0, 1] as a PNG."""
        return self._save_png(
            self.gradcam_path(run, image_key), _to_uint8(heatmap[..., None], 1)
        )

    def find_mask(self, run: str, image_key: str) -> Path | None:
        return self._find(run, image_key, MASK_SUFFIXES)

    def find_gradcam(self, run: str, image_key: str) -> Path | None:
        return self._find(run, image_key, GRADCAM_SUFFIXES)

    def _find(self, run: str, image_key: str, suffixes) -> Path | None:
        for suffix in suffixes:
            path = self._path(run, image_key, suffix)
            if path.exists():
                return path
        return None

    def _save_png(self, path: Path, channels: np.ndarray) -> Path:
        height, width, count = channels.shape
        rgb = np.zeros((height, width, 3), np.uint8)
        rgb[..., :count] = channels
        ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise PredictionStoreError("could not be encoded as PNG", path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, encoded.tobytes())
        return path

    def load_mask(self, run: str, image_key: str) -> np.ndarray | None:
        """The whole mask of a small image as (H, W, 2) float32 in [0, 1]."""
        path = self._find(run, image_key, MASK_SUFFIXES[1:])
        if path is None:
            return None
        pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if pixels is None:
            raise PredictionStoreError(
                "cannot be read", path, "run the models on this image again"
            )
        rgb = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
        return rgb[..., :2].astype(np.float32) / 255.0


def _to_uint8(values: np.ndarray, channels: int) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 3 or values.shape[2] != channels:
        raise ValueError(f"expected (H, W, {channels}) values, got {values.shape}")
    if values.dtype == np.uint8:
        return values
    return np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
