"""Instance segmentation: one mask per cell, Mask R-CNN's losses, COCO AP and ISBI.

Outlines are kept as vertices and moved by the augmentation together with the
image, then rasterised, one mask per cell, so overlapping cells keep their own
full masks.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from torch import nn

from engine.models.maskrcnn import postprocess
from engine.training.augment import outline_augmentation, transform_outlines
from engine.training.data import (
    ArrayCache,
    data_fingerprint,
    fill_polygons,
    read_rgb,
    resize_short_side,
)
from engine.training.tasks.base import Evaluation, Task
from engine.training.tasks.scenes import (
    model_microns_per_pixel,
    scale_outline,
    scene_images,
)

log = logging.getLogger(__name__)

# A cell cut by the image border to fewer pixels than this is no instance.
MIN_INSTANCE_PIXELS = 4


def instance_targets(
    shape: tuple[int, int], outlines: list[np.ndarray], labels: list[int]
) -> dict[str, np.ndarray]:
    """Masks, boxes and labels of the cells whose outline covers enough pixels."""
    masks, boxes, kept = [], [], []
    for outline, label in zip(outlines, labels, strict=True):
        mask = fill_polygons(shape, [outline])
        rows, columns = np.any(mask, axis=1), np.any(mask, axis=0)
        if mask.sum() < MIN_INSTANCE_PIXELS:
            continue
        y0, y1 = np.flatnonzero(rows)[[0, -1]]
        x0, x1 = np.flatnonzero(columns)[[0, -1]]
        masks.append(mask)
        boxes.append([x0, y0, x1 + 1, y1 + 1])
        kept.append(label)
    return {
        "masks": np.stack(masks) if masks else np.zeros((0, *shape), np.uint8),
        "boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
        "labels": np.asarray(kept, np.int64),
    }


class SceneData(torch.utils.data.Dataset):
    """Images with their cells' outlines and labels (1-based; 0 is background)."""

    def __init__(self, images, outlines, labels, rows, augmentation):
        self.images = images
        self.outlines = outlines
        self.labels = labels
        self.rows = list(rows)
        self.augmentation = augmentation

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict:
        row = self.rows[index]
        # A copy: cached images are read-only memory maps.
        image, outlines = np.array(self.images[row]), self.outlines[row]
        if self.augmentation is not None:
            image, outlines = transform_outlines(self.augmentation, image, outlines)
        targets = instance_targets(image.shape[:2], outlines, self.labels[row])
        return {"image": image, **targets}

    def reseed(self, seed: int) -> None:
        if self.augmentation is not None:
            self.augmentation.set_random_seed(seed)


class MaskRcnnTask(Task):
    name = "maskrcnn"
    metric = "AP"

    def default_class_names(self) -> list[str]:
        if self.config.scheme == "cell":
            return ["cell"]
        return super().default_class_names()

    def target_index(self, class_name: str) -> int | None:
        if self.config.scheme == "cell":
            return 0
        return super().target_index(class_name)

    @property
    def num_outputs(self) -> int:
        return len(self.class_names) + 1

    def inference_settings(self) -> dict:
        settings = {
            "score_threshold": self.config.score_threshold,
            "mask_threshold": self.config.mask_threshold,
        }
        microns = model_microns_per_pixel(
            self.dataset, scene_images(self.dataset.images), self.config.image_size
        )
        if microns is not None:
            settings["microns_per_pixel"] = round(microns, 6)
        return settings

    def prepare(self, cache: ArrayCache) -> None:
        self.records = scene_images(self.dataset.images)
        side = self.config.image_size
        names = list(self.dataset.scheme.names)

        def build() -> dict[str, np.ndarray]:
            arrays = {}
            for row, image in enumerate(self.records):
                pixels, scale = resize_short_side(read_rgb(image.path), side)
                outlines = [scale_outline(c.cytoplasm, scale) for c in image.cells]
                arrays[f"image{row}"] = pixels
                arrays[f"vertices{row}"] = np.concatenate(outlines).astype(np.float32)
                arrays[f"lengths{row}"] = np.array([len(o) for o in outlines], np.int32)
                arrays[f"classes{row}"] = np.array(
                    [names.index(c.class_name) for c in image.cells], np.int32
                )
            log.info(
                "Scaled %d images and their outlines to %d px", len(self.records), side
            )
            return arrays

        key = {"task": "maskrcnn", "size": side, "data": data_fingerprint(self.records)}
        arrays = cache.load_or_build(f"maskrcnn-{side}", key, build)
        self.images, self.outlines, self.labels = [], [], []
        for row in range(len(self.records)):
            self.images.append(arrays[f"image{row}"])
            lengths = np.asarray(arrays[f"lengths{row}"])
            vertices = np.asarray(arrays[f"vertices{row}"], np.float64)
            self.outlines.append(np.split(vertices, np.cumsum(lengths)[:-1]))
            targets = [self.target_index(names[c]) for c in arrays[f"classes{row}"]]
            self.labels.append([-1 if t is None else t + 1 for t in targets])
        self.row_of = {image.key: row for row, image in enumerate(self.records)}

    def _rows(self, records) -> list[int]:
        return [self.row_of[r.key] for r in records if r.key in self.row_of]

    def _data(self, records, augmentation) -> SceneData:
        # Cells whose class is not learnt (label -1) are left out of the targets.
        outlines = [
            [o for o, label in zip(outs, labels, strict=True) if label > 0]
            for outs, labels in zip(self.outlines, self.labels, strict=True)
        ]
        labels = [[label for label in labels if label > 0] for labels in self.labels]
        return SceneData(
            self.images, outlines, labels, self._rows(records), augmentation
        )

    def train_data(self, records):
        augment = self.config.augment
        return self._data(
            records, outline_augmentation(self.config.seed) if augment else None
        )

    def eval_data(self, records):
        return self._data(records, None)

    def collate(self, samples):
        return {"samples": samples, "size": len(samples)}

    def to_device(self, batch, device):
        images, targets = [], []
        for sample in batch["samples"]:
            image = torch.from_numpy(np.ascontiguousarray(sample["image"]))
            images.append(image.to(device).permute(2, 0, 1).float().div_(255.0))
            targets.append(
                {
                    name: torch.from_numpy(sample[name]).to(device)
                    for name in ("masks", "boxes", "labels")
                }
            )
        return {"images": images, "targets": targets, "size": batch["size"]}

    def loss(self, model: nn.Module, batch: dict) -> torch.Tensor:
        losses = model(batch["images"], batch["targets"])
        return sum(losses.values())

    def _validation_loss(self, model: nn.Module, batch: dict) -> float:
        """Mask R-CNN gives losses only in training mode; batch norm stays frozen."""
        model.train()
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
        try:
            return float(self.loss(model, batch))
        finally:
            model.eval()

    def evaluate(self, model, loader, device) -> Evaluation:
        from engine.metrics.instances import (
            ImagePrediction,
            ImageTruth,
            aggregate_isbi,
            coco_mask_ap,
            isbi_overlap_metrics,
        )

        predictions, truths, isbi, loss_sum, count = [], [], [], 0.0, 0
        threshold = self.config.mask_threshold
        for batch in loader:
            batch = self.to_device(batch, device)
            loss_sum += self._validation_loss(model, batch) * batch["size"]
            count += batch["size"]
            for output, target in zip(
                model(batch["images"]), batch["targets"], strict=True
            ):
                found = postprocess(
                    output, score_threshold=0.0, mask_threshold=threshold
                )
                true_masks = target["masks"].cpu().numpy().astype(bool)
                predictions.append(
                    ImagePrediction(found.masks, found.scores, found.labels)
                )
                truths.append(
                    ImageTruth(true_masks, target["labels"].cpu().numpy() - 1)
                )
                confident = found.scores >= self.config.score_threshold
                isbi.append(isbi_overlap_metrics(found.masks[confident], true_masks))
        if count == 0:
            return Evaluation(None, {})
        ap = coco_mask_ap(
            predictions, truths, class_agnostic=len(self.class_names) == 1
        )
        overlap = aggregate_isbi(isbi)
        metrics = {name: float(ap[name]) for name in ("AP", "AP50", "AP75")}
        metrics.update(
            {
                f"isbi_{name}": float(overlap[name])
                for name in ("dice", "fnro", "tprp", "fprp")
            }
        )
        lines = [f"{'figure':<12}  {'value':>7}"]
        lines += [f"{name:<12}  {value:>7.3f}" for name, value in metrics.items()]
        lines.append(
            f"{ap['true_instances']} true cells in {ap['images']} images; "
            f"ISBI figures at score >= {self.config.score_threshold}"
        )
        return Evaluation(
            loss=loss_sum / count,
            metrics={k: v for k, v in metrics.items() if not math.isnan(v)},
            report={"coco": ap, "isbi": overlap},
            table="\n".join(lines),
        )
