"""Semantic segmentation: whole-cell and nucleus masks, BCE (+ Dice), Dice and IoU.

Targets are rasterised once from the outlines at the working scale. Training
draws random square tiles of the input size; validation sees each whole image,
padded to a multiple of 32 and scored without the padding.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.models.unet import CHANNELS, SIZE_MULTIPLE
from engine.training.augment import tile_augmentation
from engine.training.data import (
    ArrayCache,
    data_fingerprint,
    fill_polygons,
    normalise,
    read_rgb,
    resize_short_side,
)
from engine.training.tasks.base import Evaluation, Task
from engine.training.tasks.scenes import (
    model_microns_per_pixel,
    pad_to_multiple,
    scale_outline,
    scene_images,
)

log = logging.getLogger(__name__)


class TileData(torch.utils.data.Dataset):
    """Images and their (H, W, 2) masks; random tiles when augmenting, else whole."""

    def __init__(self, images, masks, rows, tile: int, augmentation):
        self.images = images
        self.masks = masks
        self.augmentation = augmentation
        # A large image yields several tiles per epoch, so that all of it is seen.
        self.rows = []
        for row in rows:
            height, width = images[row].shape[:2]
            repeats = max(1, round(height * width / tile**2)) if augmentation else 1
            self.rows += [row] * repeats

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        row = self.rows[index]
        image, mask = np.asarray(self.images[row]), np.asarray(self.masks[row])
        if self.augmentation is not None:
            result = self.augmentation(image=image, mask=mask)
            image, mask = result["image"], result["mask"]
        return image, mask

    def reseed(self, seed: int) -> None:
        if self.augmentation is not None:
            self.augmentation.set_random_seed(seed)


class UnetTask(Task):
    name = "unet"
    metric = "dice"

    def default_class_names(self) -> list[str]:
        return list(CHANNELS)

    def inference_settings(self) -> dict:
        settings = {"threshold": 0.5}
        microns = model_microns_per_pixel(
            self.dataset, scene_images(self.dataset.images), self.config.image_size
        )
        if microns is not None:
            settings["microns_per_pixel"] = round(microns, 6)
        return settings

    def prepare(self, cache: ArrayCache) -> None:
        self.records = scene_images(self.dataset.images)
        side = self.config.image_size

        def build() -> dict[str, np.ndarray]:
            arrays = {}
            for row, image in enumerate(self.records):
                pixels, scale = resize_short_side(read_rgb(image.path), side)
                shape = pixels.shape[:2]
                cells = [scale_outline(c.cytoplasm, scale) for c in image.cells]
                nuclei = [
                    scale_outline(c.nucleus, scale)
                    for c in image.cells
                    if c.nucleus is not None
                ]
                arrays[f"image{row}"] = pixels
                arrays[f"mask{row}"] = np.stack(
                    [fill_polygons(shape, cells), fill_polygons(shape, nuclei)], axis=-1
                )
            log.info("Rasterised %d images at %d px", len(self.records), side)
            return arrays

        key = {"task": "unet", "size": side, "data": data_fingerprint(self.records)}
        arrays = cache.load_or_build(f"unet-{side}", key, build)
        self.images = [arrays[f"image{row}"] for row in range(len(self.records))]
        self.masks = [arrays[f"mask{row}"] for row in range(len(self.records))]
        self.row_of = {image.key: row for row, image in enumerate(self.records)}

    def _rows(self, records) -> list[int]:
        return [self.row_of[r.key] for r in records if r.key in self.row_of]

    def train_data(self, records):
        tile = self.config.image_size
        augmentation = tile_augmentation(tile, self.config.seed, self.config.augment)
        return TileData(
            self.images, self.masks, self._rows(records), tile, augmentation
        )

    def eval_data(self, records):
        rows = self._rows(records)
        return TileData(self.images, self.masks, rows, self.config.image_size, None)

    def collate(self, samples):
        images, masks = zip(*samples, strict=True)
        images, sizes = pad_to_multiple(list(images), SIZE_MULTIPLE, "edge")
        masks, _ = pad_to_multiple(list(masks), SIZE_MULTIPLE, "constant")
        return {
            "images": torch.from_numpy(images),
            "masks": torch.from_numpy(masks),
            "sizes": sizes,
            "size": len(sizes),
        }

    def to_device(self, batch, device):
        non_blocking = device.type == "cuda"
        images = batch["images"].to(device, non_blocking=non_blocking)
        masks = batch["masks"].to(device, non_blocking=non_blocking)
        return {
            "images": normalise(images, self.mean, self.std),
            "masks": masks.permute(0, 3, 1, 2).float(),
            "sizes": batch["sizes"],
            "size": batch["size"],
        }

    def _loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = F.binary_cross_entropy_with_logits(logits.float(), target)
        if self.config.dice_loss:
            from segmentation_models_pytorch.losses import DiceLoss

            if not hasattr(self, "_dice"):
                self._dice = DiceLoss(mode="multilabel", from_logits=True)
            loss = loss + self._dice(logits.float(), target)
        return loss

    def loss(self, model: nn.Module, batch: dict) -> torch.Tensor:
        return self._loss(model(batch["images"]), batch["masks"])

    def evaluate(self, model, loader, device) -> Evaluation:
        from engine.metrics.segmentation import SegmentationScores

        scores = SegmentationScores(self.class_names)
        loss_sum, count = 0.0, 0
        for batch in loader:
            batch = self.to_device(batch, device)
            logits = model(batch["images"]).float()
            for index, (height, width) in enumerate(batch["sizes"]):
                image_logits = logits[index : index + 1, :, :height, :width]
                target = batch["masks"][index : index + 1, :, :height, :width]
                loss_sum += float(self._loss(image_logits, target))
                scores.update(image_logits, target, from_logits=True)
                count += 1
        if count == 0:
            return Evaluation(None, {})
        per_channel = scores.compute()
        metrics = {"dice": scores.mean_dice}
        for channel, figures in per_channel.items():
            metrics[f"dice_{channel}"] = figures["dice"]
            metrics[f"iou_{channel}"] = figures["iou"]
        lines = [f"{'channel':<10}  {'Dice':>6}  {'IoU':>6}"]
        for channel, figures in per_channel.items():
            lines.append(
                f"{channel:<10}  {figures['dice']:>6.3f}  {figures['iou']:>6.3f}"
            )
        lines.append(f"{'mean':<10}  {scores.mean_dice:>6.3f}")
        return Evaluation(
            loss=loss_sum / count,
            metrics={k: v for k, v in metrics.items() if not math.isnan(v)},
            report={"images": count, "channels": per_channel},
            table="\n".join(lines),
        )
