"""The training queue: the cells whose labels would teach the models most, where
the models are least certain or disagree with each other or with a person.

For each unreviewed cell of a run:

- uncertainty: the entropy of the classifier's probabilities divided by the
  log of the number of classes, so 0 is one sure class and 1 all classes equal
  (0 when the cell has no probabilities);
- class disagreement: the classifier's class differs from the annotation's;
- unmatched: an instance with no annotation cell, or an annotation cell that no
  instance matches (IoU above 0.5) in an image the run predicted;
- mask disagreement: the IoU of the instance outline with the U-Net cell regions
  it touches is below 0.5, when the run stored a U-Net mask. Touching cells that
  the U-Net merged into one region lower this IoU too.

    priority = uncertainty + 1.0 * class disagreement
                           + 0.5 * unmatched + 0.5 * mask disagreement

A person's class contradicted weighs most, being a likely labelling error or a
hard case; a cell found by one side only, or outlined differently by the two
segmentation models, weighs half. Ties keep the review queue's order.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from engine.review.errors import ReviewError
from engine.review.ranking import ReviewCandidate, ReviewSource, image_candidates
from engine.review.unet_mask import THRESHOLD, UnetMask

log = logging.getLogger(__name__)

CLASS_WEIGHT = 1.0
UNMATCHED_WEIGHT = 0.5
MASK_WEIGHT = 0.5
MASK_IOU = 0.5  # below this the U-Net and the instance model disagree
MASK_MARGIN = 0.25  # the window around an instance, as a share of its size


@dataclass(eq=False)
class TrainingCandidate:
    """A cell of the training queue and why it is there."""

    candidate: ReviewCandidate
    uncertainty: float
    class_disagrees: bool
    unmatched: bool
    mask_iou: float | None
    priority: float

    @property
    def mask_disagrees(self) -> bool:
        return self.mask_iou is not None and self.mask_iou < MASK_IOU

    @property
    def reasons(self) -> list[str]:
        """Why the cell is in the queue, in words for a list."""
        reasons = []
        if self.class_disagrees:
            reasons.append(
                f"classifier says {self.candidate.predicted_class}, "
                f"annotation says {self.candidate.annotation_class}"
            )
        if self.unmatched:
            if self.candidate.annotation_index is None:
                reasons.append("no annotation cell here")
            else:
                reasons.append("the instance model missed it")
        if self.mask_disagrees:
            reasons.append(f"U-Net and instance overlap {self.mask_iou:.2f}")
        if self.uncertainty >= 0.5:
            reasons.append(f"uncertain ({self.uncertainty:.2f})")
        return reasons


def normalised_entropy(probabilities: dict[str, float] | None) -> float:
    """Entropy of the probabilities over log(number of classes), in [0, 1]."""
    if not probabilities or len(probabilities) < 2:
        return 0.0
    values = np.clip(np.array(list(probabilities.values()), dtype=np.float64), 0, None)
    total = values.sum()
    if total <= 0:
        return 0.0
    values = values[values > 0] / total
    return float(-(values * np.log(values)).sum() / math.log(len(probabilities)))


def training_priority(
    uncertainty: float, class_disagrees: bool, unmatched: bool, mask_disagrees: bool
) -> float:
    """The combined score of the module's formula."""
    return (
        uncertainty
        + CLASS_WEIGHT * class_disagrees
        + UNMATCHED_WEIGHT * unmatched
        + MASK_WEIGHT * mask_disagrees
    )


def instance_mask_iou(outline: np.ndarray, mask: UnetMask) -> float | None:
    """IoU of an instance outline with the U-Net cell regions it touches, near the
    instance; None when the instance lies outside the mask."""
    x_min, y_min = outline.min(axis=0)
    x_max, y_max = outline.max(axis=0)
    margin = MASK_MARGIN * max(x_max - x_min, y_max - y_min) + 2
    left, top, probabilities = mask.read(
        math.floor(x_min - margin),
        math.floor(y_min - margin),
        math.ceil(x_max - x_min + 2 * margin) + 1,
        math.ceil(y_max - y_min + 2 * margin) + 1,
    )
    if probabilities.size == 0:
        return None
    instance = _rasterise_in_window(outline, left, top, probabilities.shape[:2])
    cell = probabilities[..., 0] >= THRESHOLD
    _, labels = cv2.connectedComponents(cell.astype(np.uint8), connectivity=8)
    touched = np.unique(labels[instance & cell])
    unet = np.isin(labels, touched[touched > 0])
    union = int((instance | unet).sum())
    if union == 0:
        return None
    return float((instance & unet).sum()) / union


def _rasterise_in_window(
    outline: np.ndarray, left: int, top: int, shape: tuple[int, int]
) -> np.ndarray:
    """The pixels of an outline inside a window, the same pixels as rasterising it
    on the whole image (`contours.rasterise`) and cutting the window out."""
    # Rounding before the shift: numpy rounds halves to even, so shifting first
    # could move a vertex on x.5 by a pixel.
    points = np.round(np.asarray(outline, dtype=np.float64)).astype(np.int32)
    points -= np.array([left, top], dtype=np.int32)
    canvas = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(canvas, [points.reshape(-1, 1, 2)], 1)
    return canvas.astype(bool)


def training_queue(
    source: ReviewSource,
    image_keys: Iterable[str] | None = None,
    include_reviewed: bool = False,
) -> list[TrainingCandidate]:
    """The cells of a run most worth labelling, highest priority first."""
    if source.store is None or source.run is None:
        raise ReviewError(
            "the training queue compares the models' output; choose a model run"
        )
    keys = source.image_keys() if image_keys is None else list(image_keys)
    predicted_images = set(source.store.images_with_cells(source.run))
    queue = []
    for key in keys:
        candidates = [
            candidate
            for candidate in image_candidates(source, key)
            if include_reviewed or not candidate.reviewed
        ]
        if not candidates:
            continue
        mask = UnetMask.open(source.store, source.run, key)
        try:
            for candidate in candidates:
                queue.append(_assess(candidate, key in predicted_images, mask))
        finally:
            if mask is not None:
                mask.close()
    queue.sort(key=lambda item: (-item.priority, item.candidate.sort_key()))
    log.debug("Training queue of %d images: %d cells", len(keys), len(queue))
    return queue


def _assess(
    candidate: ReviewCandidate, image_predicted: bool, mask: UnetMask | None
) -> TrainingCandidate:
    uncertainty = normalised_entropy(candidate.probabilities)
    linked = (
        candidate.annotation_index is not None and candidate.predicted_id is not None
    )
    class_disagrees = bool(
        linked
        and candidate.predicted_class is not None
        and candidate.predicted_class != candidate.annotation_class
    )
    if candidate.annotation_index is None:
        unmatched = True
    else:
        unmatched = image_predicted and candidate.predicted_id is None
    mask_iou = None
    if mask is not None and candidate.predicted_outline is not None:
        mask_iou = instance_mask_iou(candidate.predicted_outline, mask)
    mask_disagrees = mask_iou is not None and mask_iou < MASK_IOU
    return TrainingCandidate(
        candidate=candidate,
        uncertainty=uncertainty,
        class_disagrees=class_disagrees,
        unmatched=unmatched,
        mask_iou=mask_iou,
        priority=training_priority(
            uncertainty, class_disagrees, unmatched, mask_disagrees
        ),
    )
