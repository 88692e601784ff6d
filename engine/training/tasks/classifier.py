"""Cell classification: square crops around each cell, cross-entropy, accuracy and F1.

A crop is the cell's bounding box plus a margin, made square and resized to
the input size. Cells are cut from their cluster image, where the reviewer's
corrections are made; a cell of `CROPPED/` is used only when its cluster
image has no outline for it.
"""

from __future__ import annotations

import logging
from collections import Counter

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.annotations import Cell, ImageKind, ImageRecord
from engine.annotations.sipakmed import CROPPED_STEM
from engine.training.augment import crop_augmentation
from engine.training.data import ArrayCache, data_fingerprint, normalise, read_rgb
from engine.training.errors import EmptyClassError
from engine.training.splits import Split, class_folder, image_group
from engine.training.tasks.base import Evaluation, Task

log = logging.getLogger(__name__)


def cells_to_classify(images: list[ImageRecord]) -> list[tuple[ImageRecord, Cell]]:
    """Every cell once: from its cluster image, else from its cropped image."""
    in_cluster = {
        (class_folder(image), image.stem, cell.index)
        for image in images
        if image.kind is ImageKind.CLUSTER
        for cell in image.cells
    }
    chosen = []
    for image in images:
        for cell in image.cells:
            if image.kind is ImageKind.CROPPED:
                match = CROPPED_STEM.match(image.stem)
                if match is not None and (
                    (class_folder(image), match["image"], int(match["index"]))
                    in in_cluster
                ):
                    continue
            chosen.append((image, cell))
    return chosen


def cell_crop(image: np.ndarray, cell: Cell, size: int, margin: float) -> np.ndarray:
    """The square crop around a cell's outline, resized to `size`; edges replicated
    where the square leaves the image."""
    x_min, y_min, x_max, y_max = cell.bounds
    side = max(x_max - x_min, y_max - y_min, 2.0) * (1 + 2 * margin)
    centre_x, centre_y = (x_min + x_max) / 2, (y_min + y_max) / 2
    x0, y0 = round(centre_x - side / 2), round(centre_y - side / 2)
    side = max(2, round(side))
    height, width = image.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - width, y0 + side - height)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    window = image[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(window, (size, size), interpolation=interpolation)


class CropData(torch.utils.data.Dataset):
    """Prepared crops with their class indices, augmented on the way out."""

    def __init__(self, crops: np.ndarray, labels: np.ndarray, rows: np.ndarray, aug):
        self.crops = crops
        self.labels = labels
        self.rows = rows
        self.augmentation = aug

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        row = self.rows[index]
        crop = np.asarray(self.crops[row])
        if self.augmentation is not None:
            crop = self.augmentation(image=crop)["image"]
        return crop, int(self.labels[row])

    def reseed(self, seed: int) -> None:
        if self.augmentation is not None:
            self.augmentation.set_random_seed(seed)


class ClassifierTask(Task):
    name = "classifier"
    metric = "accuracy"

    def prepare(self, cache: ArrayCache) -> None:
        size, margin = self.config.image_size, self.config.cell_margin
        chosen = cells_to_classify(self.dataset.images)

        def build() -> dict[str, np.ndarray]:
            crops = np.zeros((len(chosen), size, size, 3), dtype=np.uint8)
            current_key, pixels = None, None
            for row, (image, cell) in enumerate(chosen):
                if image.key != current_key:
                    current_key, pixels = image.key, read_rgb(image.path)
                crops[row] = cell_crop(pixels, cell, size, margin)
            log.info("Cut %d cell crops of %d px", len(chosen), size)
            return {"crops": crops}

        key = {
            "task": "classifier",
            "size": size,
            "margin": margin,
            "data": data_fingerprint(self.dataset.images),
        }
        self.crops = cache.load_or_build(f"classifier-{size}", key, build)["crops"]
        self.groups = np.array([image_group(image) for image, _ in chosen])
        self.cell_classes = [cell.class_name for _, cell in chosen]
        targets = [self.target_index(name) for name in self.cell_classes]
        # -1 marks a cell whose class this model does not learn.
        self.labels = np.array(
            [-1 if target is None else target for target in targets], dtype=np.int64
        )

    def rows_of(self, records: list[ImageRecord]) -> np.ndarray:
        groups = {image_group(image) for image in records}
        keep = np.isin(self.groups, list(groups)) & (self.labels >= 0)
        return np.flatnonzero(keep)

    def check(self, split: Split) -> None:
        if len(self.class_names) < 2:
            raise EmptyClassError(
                f"has only {len(self.class_names)} class; a classifier needs two",
                self.dataset.root,
                "use a dataset with at least two classes",
            )
        train_rows = self.rows_of(split.records(self.dataset, "train"))
        counts = Counter(self.labels[train_rows].tolist())
        for index, name in enumerate(self.class_names):
            if counts.get(index, 0) == 0:
                total = int((self.labels == index).sum())
                raise EmptyClassError(
                    f"class {name!r} has no cells in the training split "
                    f"({total} in the whole dataset)",
                    self.dataset.root,
                    "annotate cells of this class, or train with --scheme 3 or 2",
                )

    def train_data(self, records):
        augmentation = (
            crop_augmentation(self.config.seed) if self.config.augment else None
        )
        return CropData(self.crops, self.labels, self.rows_of(records), augmentation)

    def eval_data(self, records):
        return CropData(self.crops, self.labels, self.rows_of(records), None)

    def collate(self, samples):
        crops, labels = zip(*samples, strict=True)
        return {
            "images": torch.from_numpy(np.stack(crops)),
            "labels": torch.tensor(labels, dtype=torch.int64),
            "size": len(crops),
        }

    def to_device(self, batch, device):
        non_blocking = device.type == "cuda"
        images = batch["images"].to(device, non_blocking=non_blocking)
        return {
            "images": normalise(images, self.mean, self.std),
            "labels": batch["labels"].to(device, non_blocking=non_blocking),
            "size": batch["size"],
        }

    def loss(self, model: nn.Module, batch: dict) -> torch.Tensor:
        return F.cross_entropy(model(batch["images"]), batch["labels"])

    def evaluate(self, model, loader, device) -> Evaluation:
        from engine.metrics.classification import classification_report

        truths, predictions, loss_sum, count = [], [], 0.0, 0
        for batch in loader:
            batch = self.to_device(batch, device)
            logits = model(batch["images"]).float()
            loss_sum += float(F.cross_entropy(logits, batch["labels"], reduction="sum"))
            count += batch["size"]
            truths.append(batch["labels"].cpu())
            predictions.append(logits.argmax(dim=1).cpu())
        if count == 0:
            return Evaluation(None, {})
        report = classification_report(
            torch.cat(truths), torch.cat(predictions), self.class_names
        )
        return Evaluation(
            loss=loss_sum / count,
            metrics={"accuracy": report.accuracy, "macro_f1": report.macro_f1},
            report=report.to_json(),
            table=report.format_table(),
        )
