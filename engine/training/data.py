"""Preparing training data once: reading images, a cache of prepared arrays, loaders.

Cropping cells and rasterising outlines from full-size cluster images costs
far more than a training step, so each task prepares its arrays once per
dataset state and keeps them under `<dataset>/.cervix/cache/`, memory-mapped
on later runs. The data fingerprint names the dataset state: any edited
outline or class makes a new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
import torch

from engine.annotations import Dataset, ImageRecord
from engine.training.errors import DataPreparationError

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def read_rgb(path: Path) -> np.ndarray:
    """An image file as an RGB uint8 array (grey images become three channels)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DataPreparationError(
            "cannot be read as an image", path, "replace the file or remove the image"
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def data_fingerprint(records: Iterable[ImageRecord]) -> str:
    """A hash of image keys, cell outlines and classes: the annotations trained on."""
    digest = hashlib.sha256()
    for record in sorted(records, key=lambda image: image.key):
        digest.update(record.key.encode())
        for cell in sorted(record.cells, key=lambda cell: cell.index):
            digest.update(f"|{cell.index}|{cell.class_name}|".encode())
            digest.update(np.ascontiguousarray(cell.cytoplasm, np.float64).tobytes())
            if cell.nucleus is not None:
                digest.update(np.ascontiguousarray(cell.nucleus, np.float64).tobytes())
    return digest.hexdigest()


def resize_short_side(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The image scaled so that its shorter side is `side`, and the scale used."""
    height, width = image.shape[:2]
    scale = side / min(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation), scale


def fill_polygons(
    shape: tuple[int, int], polygons: Iterable[np.ndarray], value: int = 1
) -> np.ndarray:
    """A uint8 mask with each (k, 2) outline filled, at sub-pixel precision."""
    mask = np.zeros(shape, dtype=np.uint8)
    points = [
        np.round(np.asarray(polygon, np.float64) * 16)
        .astype(np.int32)
        .reshape(-1, 1, 2)
        for polygon in polygons
        if len(polygon) >= 3
    ]
    if points:
        # Four fractional bits: outlines keep their sub-pixel shape at any scale.
        cv2.fillPoly(mask, points, value, lineType=cv2.LINE_8, shift=4)
    return mask


class ArrayCache:
    """Named sets of numpy arrays kept under one folder, one `.npy` per array."""

    def __init__(self, root: Path | None):
        self.root = root

    @classmethod
    def for_dataset(cls, dataset: Dataset, enabled: bool = True) -> ArrayCache:
        return cls(dataset.project.root / "cache" if enabled else None)

    def load_or_build(
        self,
        name: str,
        key: dict,
        build: Callable[[], dict[str, np.ndarray]],
    ) -> dict[str, np.ndarray]:
        """The arrays cached for (name, key), built and stored when missing.

        A cache that cannot be written (read-only dataset, full disk) only
        costs time: the arrays are used from memory.
        """
        digest = hashlib.sha256(
            json.dumps({"v": CACHE_VERSION, **key}, sort_keys=True).encode()
        ).hexdigest()[:16]
        if self.root is None:
            return build()
        folder = self.root / f"{name}-{digest}"
        if (folder / "meta.json").is_file():
            try:
                names = json.loads((folder / "meta.json").read_text())["arrays"]
                arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r") for n in names}
                log.info("Using prepared %s data from %r", name, str(folder))
                return arrays
            except (OSError, ValueError, KeyError) as error:
                log.warning(
                    "Cache %r unreadable (%s); preparing again", str(folder), error
                )
        arrays = build()
        self._store(folder, name, arrays)
        return arrays

    def _store(self, folder: Path, name: str, arrays: dict[str, np.ndarray]) -> None:
        staging = folder.with_name(f".{folder.name}.writing-{os.getpid()}")
        try:
            staging.mkdir(parents=True, exist_ok=True)
            for array_name, array in arrays.items():
                np.save(staging / f"{array_name}.npy", array)
            (staging / "meta.json").write_text(json.dumps({"arrays": list(arrays)}))
            for stale in folder.parent.glob(f"{name}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(staging, folder)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            log.warning("Could not cache prepared data in %r: %s", str(folder), error)


def normalise(
    images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]
) -> torch.Tensor:
    """(B, H, W, 3) uint8 images as (B, 3, H, W) floats, normalised per channel."""
    images = images.permute(0, 3, 1, 2).float().div_(255.0)
    mean_t = torch.tensor(mean, device=images.device).view(1, -1, 1, 1)
    std_t = torch.tensor(std, device=images.device).view(1, -1, 1, 1)
    return (images - mean_t) / std_t


def seed_worker(worker_id: int) -> None:
    """Give each loader worker its own augmentation sequence, reproducibly, and
    leave Ctrl+C to the main process, which stops the run cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    info = torch.utils.data.get_worker_info()
    seed = info.seed % 2**32
    np.random.seed(seed)
    reseed = getattr(info.dataset, "reseed", None)
    if reseed is not None:
        reseed(seed)


def make_loader(
    data: torch.utils.data.Dataset,
    batch_size: int,
    collate: Callable,
    *,
    train: bool,
    workers: int,
    seed: int,
    sampler: torch.utils.data.Sampler | None = None,
    pin_memory: bool = False,
) -> torch.utils.data.DataLoader:
    """A loader that shuffles for training (unless given a sampler) and keeps its
    workers between epochs."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return torch.utils.data.DataLoader(
        data,
        batch_size=batch_size,
        shuffle=train and sampler is None,
        sampler=sampler,
        collate_fn=collate,
        num_workers=workers,
        persistent_workers=workers > 0,
        worker_init_fn=seed_worker if workers > 0 else None,
        generator=generator,
        # A last batch of one image breaks batch norm statistics; drop it.
        drop_last=train and len(data) > batch_size,
        pin_memory=pin_memory,
    )
