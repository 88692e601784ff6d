"""The scores of the ISBI 2014 Overlapping Cervical Cytology Image Segmentation
Challenge, for one image of overlapping cells and for a whole set of images.

The challenge page (cs.adelaide.edu.au/~carneiro/isbi14_challenge, "Evaluation
Metric") defines the scores in words: the mean Dice coefficient over the "good"
cell segmentations, a good one having Dice > 0.7; the object-based false
negative rate, the share of cells with Dice <= 0.7; and the pixel-based true
and false positive rates over the good segmentations. It does not spell out
how a true cell finds its segmentation, nor the denominators of the pixel
rates, so this module implements:

- matching: every pair of a true cell T and a predicted cell P is scored by
  their overlap, the Jaccard index |P∩T| / |P∪T| (which orders pairs exactly
  as Dice does). Each true cell takes the predicted cell of highest overlap,
  one to one: pairs are taken in order of decreasing overlap and a predicted
  cell already taken is not given to a second true cell. This is what the
  evaluation script that H. A. Phoulady published (2016) with his method for
  the challenge's 2015 edition does ("the 2016 script" below); without it one
  prediction covering two heavily overlapping cells could count as two good
  segmentations. `one_to_one=False` lets every true cell
  take its best predicted cell even if another one took it too.
- a match is good when its Dice 2|P∩T| / (|P| + |T|) is above 0.7.
- dice: the mean Dice over the good matches.
- fnro: (true cells without a good match) / (true cells).
- tprp: the mean over good matches of |P∩T| / |T|, the share of the cell's
  pixels that were found (as in the 2016 script).
- fprp: the mean over good matches of |P \\ T| / (image pixels - |T|), the
  share of the pixels outside the cell that were wrongly given to it: the
  usual FP / (FP + TN) with the image as the pixel population.
- fdro (not a 2014 score; from the 2016 script): (predicted cells without a good
  match) / (predicted cells), so that spurious predictions show somewhere.

Where no match is good, dice, tprp and fprp are 0.0 (the 2016 script's choice
for images where every cell was missed); fnro, which is then 1.0, says why.
An image without true cells has fnro 0.0. A true cell without any pixel
cannot be matched and counts as missed.

Over a set of images, `aggregate_isbi` averages over cells, not images: every
matched cell weighs the same in dice, tprp and fprp, and fnro is the share of
all true cells of the set that were missed, as the 2016 script computes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

GOOD_DICE = 0.7
"""A matched cell counts as segmented when its Dice is above this."""


@dataclass(frozen=True)
class _CellMask:
    """A binary mask cut to its bounding box, to compare only where it can overlap."""

    top: int
    left: int
    pixels: np.ndarray
    area: int

    @property
    def bottom(self) -> int:
        return self.top + self.pixels.shape[0]

    @property
    def right(self) -> int:
        return self.left + self.pixels.shape[1]


def isbi_overlap_metrics(
    pred_masks: Sequence[np.ndarray] | np.ndarray,
    true_masks: Sequence[np.ndarray] | np.ndarray,
    dice_threshold: float = GOOD_DICE,
    one_to_one: bool = True,
) -> dict:
    """The ISBI 2014 scores of one image: each argument holds one binary mask
    (H, W) per cell, as a list or an (n, H, W) array; nonzero is the cell.

    Returns a dict with "dice", "fnro", "tprp", "fprp", "fdro", "matched"
    (good matches), "cells" (true cells) and "predicted" (predicted cells).
    """
    image_shape = _image_shape(pred_masks, true_masks)
    predicted = _cut_to_boxes(pred_masks, image_shape)
    truth = _cut_to_boxes(true_masks, image_shape)
    image_pixels = image_shape[0] * image_shape[1] if image_shape else 0

    matches = _match(predicted, truth, one_to_one)
    dice_values, true_positive_rates, false_positive_rates = [], [], []
    for true_index, (pred_index, intersection) in matches.items():
        true_cell, pred_cell = truth[true_index], predicted[pred_index]
        dice = 2.0 * intersection / (true_cell.area + pred_cell.area)
        if dice <= dice_threshold:
            continue
        dice_values.append(dice)
        true_positive_rates.append(intersection / true_cell.area)
        outside_cell = image_pixels - true_cell.area
        false_pixels = pred_cell.area - intersection
        false_positive_rates.append(
            false_pixels / outside_cell if outside_cell else 0.0
        )

    return _scores(
        matched=len(dice_values),
        cells=len(truth),
        predicted=sum(1 for cell in predicted if cell is not None),
        dice_sum=sum(dice_values),
        tprp_sum=sum(true_positive_rates),
        fprp_sum=sum(false_positive_rates),
    )


def aggregate_isbi(per_image: Sequence[dict]) -> dict:
    """The ISBI scores of a set of images from each image's scores, averaged
    over cells, not images (see the module's description)."""
    matched = sum(result["matched"] for result in per_image)
    return _scores(
        matched=matched,
        cells=sum(result["cells"] for result in per_image),
        predicted=sum(result["predicted"] for result in per_image),
        dice_sum=sum(result["dice"] * result["matched"] for result in per_image),
        tprp_sum=sum(result["tprp"] * result["matched"] for result in per_image),
        fprp_sum=sum(result["fprp"] * result["matched"] for result in per_image),
    )


def _scores(
    matched: int,
    cells: int,
    predicted: int,
    dice_sum: float,
    tprp_sum: float,
    fprp_sum: float,
) -> dict:
    """The reported dict from counts and sums over the good matches."""
    return {
        "dice": dice_sum / matched if matched else 0.0,
        "fnro": (cells - matched) / cells if cells else 0.0,
        "tprp": tprp_sum / matched if matched else 0.0,
        "fprp": fprp_sum / matched if matched else 0.0,
        "fdro": (predicted - matched) / predicted if predicted else 0.0,
        "matched": matched,
        "cells": cells,
        "predicted": predicted,
    }


def _image_shape(*mask_sets: Sequence[np.ndarray] | np.ndarray) -> tuple[int, int]:
    """The (H, W) shared by every mask; () when there is no mask at all."""
    shapes = set()
    for masks in mask_sets:
        if isinstance(masks, np.ndarray):
            if masks.ndim != 3:
                raise ValueError(f"a mask stack must be (n, H, W), got {masks.shape}")
            shapes.add(masks.shape[1:])
        else:
            shapes.update(np.shape(mask) for mask in masks)
    if len(shapes) > 1:
        raise ValueError(f"all masks of an image must have one shape, got {shapes}")
    shape = shapes.pop() if shapes else ()
    if shape and len(shape) != 2:
        raise ValueError(f"a cell mask must be (H, W), got {shape}")
    return shape


def _cut_to_boxes(
    masks: Sequence[np.ndarray] | np.ndarray, image_shape: tuple[int, ...]
) -> list[_CellMask | None]:
    """Each mask cut to its bounding box; None for a mask without pixels."""
    cells: list[_CellMask | None] = []
    for mask in masks:
        mask = np.asarray(mask)
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size == 0:
            cells.append(None)
            continue
        top, bottom = int(rows[0]), int(rows[-1]) + 1
        # Columns only within the rows that hold the cell: a full-image column
        # scan costs more than everything else on a large image.
        columns = np.flatnonzero(mask[top:bottom].any(axis=0))
        left, right = int(columns[0]), int(columns[-1]) + 1
        pixels = mask[top:bottom, left:right] != 0
        cells.append(_CellMask(top, left, pixels, int(pixels.sum())))
    return cells


def _intersection(a: _CellMask, b: _CellMask) -> int:
    """|a ∩ b|, looking only at where the two bounding boxes overlap."""
    top, bottom = max(a.top, b.top), min(a.bottom, b.bottom)
    left, right = max(a.left, b.left), min(a.right, b.right)
    if top >= bottom or left >= right:
        return 0
    a_window = a.pixels[top - a.top : bottom - a.top, left - a.left : right - a.left]
    b_window = b.pixels[top - b.top : bottom - b.top, left - b.left : right - b.left]
    return int(np.count_nonzero(a_window & b_window))


def _overlapping_boxes(
    first: list[_CellMask | None], second: list[_CellMask | None]
) -> list[tuple[int, int]]:
    """Index pairs (i, j) whose bounding boxes overlap; empty masks overlap nothing."""
    first_boxes = _boxes(first)
    second_boxes = _boxes(second)
    if len(first_boxes) == 0 or len(second_boxes) == 0:
        return []
    a = first_boxes[:, None, :]
    b = second_boxes[None, :, :]
    top = np.maximum(a[..., 0], b[..., 0])
    left = np.maximum(a[..., 1], b[..., 1])
    bottom = np.minimum(a[..., 2], b[..., 2])
    right = np.minimum(a[..., 3], b[..., 3])
    first_indices, second_indices = np.nonzero((top < bottom) & (left < right))
    return list(zip(first_indices.tolist(), second_indices.tolist(), strict=True))


def _boxes(cells: list[_CellMask | None]) -> np.ndarray:
    """(n, 4) boxes (top, left, bottom, right), ends exclusive; zeros when empty."""
    boxes = np.zeros((len(cells), 4), dtype=np.int64)
    for index, cell in enumerate(cells):
        if cell is not None:
            boxes[index] = (cell.top, cell.left, cell.bottom, cell.right)
    return boxes


def _match(
    predicted: list[_CellMask | None],
    truth: list[_CellMask | None],
    one_to_one: bool,
) -> dict[int, tuple[int, int]]:
    """For each matched true cell: (its predicted cell, their intersection).

    A true cell that overlaps no predicted cell is left out.
    """
    pairs = []
    for true_index, pred_index in _overlapping_boxes(truth, predicted):
        true_cell, pred_cell = truth[true_index], predicted[pred_index]
        intersection = _intersection(true_cell, pred_cell)
        if intersection == 0:
            continue
        union = true_cell.area + pred_cell.area - intersection
        pairs.append((intersection / union, true_index, pred_index, intersection))

    # Highest overlap first; ties go to the lower indices, so results repeat.
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    matches: dict[int, tuple[int, int]] = {}
    taken: set[int] = set()
    for _, true_index, pred_index, intersection in pairs:
        if true_index in matches or (one_to_one and pred_index in taken):
            continue
        matches[true_index] = (pred_index, intersection)
        taken.add(pred_index)
    return matches
