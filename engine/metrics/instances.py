"""Scores of the instance segmentation model: COCO mask AP computed with
pycocotools, and the ISBI 2014 overlapping-cell scores (from `isbi`).

COCO AP here is pycocotools' own: ``AP`` is the mean precision over IoU
thresholds 0.50:0.05:0.95, all object sizes, up to `max_detections` instances
per image, averaged over the classes that have true instances; ``AP50`` and
``AP75`` are the same at one IoU threshold. Predicted instances in an image
without true instances count as false positives. With no predictions at all,
every AP is 0.0; with no true instances in any image, AP is undefined and
reported as NaN.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from engine.metrics.isbi import GOOD_DICE, aggregate_isbi, isbi_overlap_metrics

__all__ = [
    "GOOD_DICE",
    "ImagePrediction",
    "ImageTruth",
    "aggregate_isbi",
    "coco_mask_ap",
    "isbi_overlap_metrics",
    "polygon_masks",
]

logger = logging.getLogger(__name__)


@dataclass
class ImagePrediction:
    """The model's instances in one image: masks (n, H, W), scores and labels (n,)."""

    masks: np.ndarray
    scores: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        self.masks = _mask_stack(self.masks)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        count = len(self.masks)
        if len(self.scores) != count or len(self.labels) != count:
            raise ValueError(
                f"{count} predicted masks but {len(self.scores)} scores "
                f"and {len(self.labels)} labels"
            )

    @classmethod
    def from_polygons(
        cls,
        polygons: Sequence[np.ndarray],
        scores: Sequence[float],
        labels: Sequence[int],
        height: int,
        width: int,
    ) -> ImagePrediction:
        """Instances given as outlines, (k, 2) arrays of x, y pixel coordinates."""
        return cls(polygon_masks(polygons, height, width), scores, labels)


@dataclass
class ImageTruth:
    """The true instances of one image: masks (m, H, W) and labels (m,)."""

    masks: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        self.masks = _mask_stack(self.masks)
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if len(self.labels) != len(self.masks):
            raise ValueError(
                f"{len(self.masks)} true masks but {len(self.labels)} labels"
            )

    @classmethod
    def from_polygons(
        cls,
        polygons: Sequence[np.ndarray],
        labels: Sequence[int],
        height: int,
        width: int,
    ) -> ImageTruth:
        """True instances given as outlines, (k, 2) arrays of x, y coordinates."""
        return cls(polygon_masks(polygons, height, width), labels)


def polygon_masks(
    polygons: Sequence[np.ndarray], height: int, width: int
) -> np.ndarray:
    """Fill each outline ((k, 2) x, y pixel coordinates) into an (n, H, W) mask."""
    masks = np.zeros((len(polygons), height, width), dtype=np.uint8)
    for mask, polygon in zip(masks, polygons, strict=True):
        points = np.rint(np.asarray(polygon, dtype=np.float64)).astype(np.int32)
        cv2.fillPoly(mask, [points.reshape(-1, 1, 2)], 1)
    return masks.astype(bool)


def coco_mask_ap(
    predictions: Sequence[ImagePrediction],
    truths: Sequence[ImageTruth],
    max_detections: int = 100,
    class_agnostic: bool = False,
) -> dict:
    """COCO mask AP, AP50 and AP75 of predictions against truths, image by image.

    `predictions[i]` and `truths[i]` describe the same image. With
    `class_agnostic` every instance counts as one class, which scores the
    outlines alone.
    """
    if len(predictions) != len(truths):
        raise ValueError(
            f"{len(predictions)} predicted images but {len(truths)} true images"
        )

    images, true_annotations, predicted_annotations = [], [], []
    for image_id, (prediction, truth) in enumerate(
        zip(predictions, truths, strict=True), start=1
    ):
        height, width = _image_size(prediction, truth, image_id)
        images.append({"id": image_id, "height": height, "width": width})
        true_labels = np.zeros_like(truth.labels) if class_agnostic else truth.labels
        for rle, label in zip(_encode(truth.masks), true_labels, strict=True):
            true_annotations.append(
                {
                    "id": len(true_annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(label),
                    "segmentation": rle,
                    "area": float(coco_mask.area(rle)),
                    "bbox": coco_mask.toBbox(rle).tolist(),
                    "iscrowd": 0,
                }
            )
        predicted_labels = (
            np.zeros_like(prediction.labels) if class_agnostic else prediction.labels
        )
        for rle, label, score in zip(
            _encode(prediction.masks),
            predicted_labels,
            prediction.scores,
            strict=True,
        ):
            predicted_annotations.append(
                {
                    "image_id": image_id,
                    "category_id": int(label),
                    "segmentation": rle,
                    "score": float(score),
                }
            )

    if not true_annotations:
        logger.debug("no true instances in %d images: AP is undefined", len(images))
        return _ap_result(
            math.nan, math.nan, math.nan, images, [], predicted_annotations
        )
    if not predicted_annotations:
        return _ap_result(0.0, 0.0, 0.0, images, true_annotations, [])

    labels = {a["category_id"] for a in true_annotations + predicted_annotations}
    dataset = {
        "images": images,
        "annotations": true_annotations,
        "categories": [{"id": label, "name": str(label)} for label in sorted(labels)],
    }
    # pycocotools prints progress and the summary table; keep logs clean.
    with contextlib.redirect_stdout(io.StringIO()):
        coco_truth = COCO()
        coco_truth.dataset = dataset
        coco_truth.createIndex()
        coco_predictions = coco_truth.loadRes(predicted_annotations)
        evaluation = COCOeval(coco_truth, coco_predictions, iouType="segm")
        evaluation.params.maxDets = [1, 10, max_detections]
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    ap, ap50, ap75 = (_undefined_as_nan(value) for value in evaluation.stats[:3])
    return _ap_result(ap, ap50, ap75, images, true_annotations, predicted_annotations)


def _ap_result(
    ap: float,
    ap50: float,
    ap75: float,
    images: list,
    true_annotations: list,
    predicted_annotations: list,
) -> dict:
    """The dict coco_mask_ap returns, with the counts it was computed from."""
    return {
        "AP": ap,
        "AP50": ap50,
        "AP75": ap75,
        "images": len(images),
        "true_instances": len(true_annotations),
        "predicted_instances": len(predicted_annotations),
    }


def _undefined_as_nan(value: float) -> float:
    """pycocotools writes -1 where a score is undefined; say so with NaN."""
    return math.nan if value < 0 else float(value)


def _mask_stack(masks: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """Masks as one boolean (n, H, W) array; nonzero is the instance."""
    if isinstance(masks, np.ndarray):
        stack = masks
    elif len(masks) == 0:
        stack = np.zeros((0, 0, 0), dtype=bool)
    else:
        stack = np.stack([np.asarray(mask) for mask in masks])
    if stack.ndim != 3:
        raise ValueError(f"instance masks must be (n, H, W), got {stack.shape}")
    return stack if stack.dtype == bool else stack != 0


def _image_size(
    prediction: ImagePrediction, truth: ImageTruth, image_id: int
) -> tuple[int, int]:
    """The (H, W) of an image, from whichever side has masks; both must agree."""
    # An empty list of masks carries no size: it becomes a (0, 0, 0) stack.
    sizes = {
        masks.shape[1:]
        for masks in (prediction.masks, truth.masks)
        if masks.shape[1:] != (0, 0)
    }
    if len(sizes) > 1:
        raise ValueError(
            f"image {image_id}: predicted and true masks differ in size: {sizes}"
        )
    return sizes.pop() if sizes else (0, 0)


def _encode(masks: np.ndarray) -> list[dict]:
    """COCO run-length encodings of an (n, H, W) mask stack."""
    if len(masks) == 0:
        return []
    # pycocotools reads masks column by column, as (H, W, n) Fortran arrays.
    encoded = coco_mask.encode(np.asfortranarray(masks.transpose(1, 2, 0), np.uint8))
    return list(encoded)
