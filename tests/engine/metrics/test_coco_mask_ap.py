"""COCO mask AP of instance predictions, on small masks whose AP follows by hand
from pycocotools' 101-point interpolation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.metrics.instances import (
    ImagePrediction,
    ImageTruth,
    coco_mask_ap,
    polygon_masks,
)

SIZE = 64


def squares(*corners, side=20):
    """An (n, SIZE, SIZE) stack of side x side squares at (top, left) corners."""
    masks = np.zeros((len(corners), SIZE, SIZE), dtype=bool)
    for mask, (top, left) in zip(masks, corners, strict=True):
        mask[top : top + side, left : left + side] = True
    return masks


def no_instances():
    return np.zeros((0, SIZE, SIZE), dtype=bool)


def two_cells():
    return ImageTruth(squares((2, 2), (36, 36)), labels=[1, 1])


def test_perfect_prediction_has_ap_one():
    truth = two_cells()
    prediction = ImagePrediction(truth.masks.copy(), scores=[0.9, 0.8], labels=[1, 1])

    result = coco_mask_ap([prediction], [truth])

    # pycocotools averages 101 recall points, which can land an ulp below 1.
    assert result["AP"] == pytest.approx(1.0)
    assert result["AP50"] == pytest.approx(1.0)
    assert result["AP75"] == pytest.approx(1.0)
    assert result["true_instances"] == 2 and result["predicted_instances"] == 2


def test_no_predictions_at_all_give_ap_zero():
    empty = ImagePrediction(no_instances(), scores=[], labels=[])

    result = coco_mask_ap([empty], [two_cells()])

    assert (result["AP"], result["AP50"], result["AP75"]) == (0.0, 0.0, 0.0)


def test_outline_off_by_a_third_passes_four_of_ten_iou_thresholds():
    # Shifted 4 pixels: 320 shared pixels, union 480, IoU 2/3. It matches at
    # IoU 0.50, 0.55, 0.60 and 0.65 and misses at 0.70..0.95, so AP = 4/10.
    truth = ImageTruth(squares((10, 10)), labels=[1])
    prediction = ImagePrediction(squares((10, 14)), scores=[0.9], labels=[1])

    result = coco_mask_ap([prediction], [truth])

    assert result["AP50"] == pytest.approx(1.0)
    assert result["AP75"] == 0.0
    assert result["AP"] == pytest.approx(0.4)


def test_predictions_in_an_image_without_cells_count_as_false_positives():
    # Detections by score: hit, false alarm, hit, false alarm. Precision is 1
    # up to recall 1/2 and 2/3 after, so on 101 recall points the AP is
    # (51 * 1 + 50 * 2/3) / 101.
    truth_with_cells = two_cells()
    hits = ImagePrediction(truth_with_cells.masks, scores=[0.9, 0.7], labels=[1, 1])
    truth_without_cells = ImageTruth(no_instances(), labels=[])
    false_alarms = ImagePrediction(squares((0, 0), (30, 30)), [0.8, 0.6], [1, 1])

    result = coco_mask_ap([hits, false_alarms], [truth_with_cells, truth_without_cells])

    expected = (51 + 50 * 2 / 3) / 101
    assert result["AP"] == pytest.approx(expected)
    assert result["AP50"] == pytest.approx(expected)
    assert result["images"] == 2


def test_no_true_cells_anywhere_leaves_ap_undefined():
    prediction = ImagePrediction(squares((0, 0)), scores=[0.5], labels=[1])

    result = coco_mask_ap([prediction], [ImageTruth(no_instances(), labels=[])])

    assert math.isnan(result["AP"])


def test_wrong_class_scores_zero_unless_class_agnostic():
    truth = ImageTruth(squares((10, 10)), labels=[1])
    prediction = ImagePrediction(squares((10, 10)), scores=[0.9], labels=[2])

    assert coco_mask_ap([prediction], [truth])["AP"] == 0.0
    assert coco_mask_ap([prediction], [truth], class_agnostic=True)[
        "AP"
    ] == pytest.approx(1.0)


def test_polygons_fill_the_same_pixels_as_masks():
    outline = np.array([[10, 10], [29, 10], [29, 29], [10, 29]], dtype=float)

    filled = polygon_masks([outline], SIZE, SIZE)
    truth = ImageTruth.from_polygons([outline], labels=[1], height=SIZE, width=SIZE)
    prediction = ImagePrediction(squares((10, 10)), scores=[0.9], labels=[1])

    assert filled.shape == (1, SIZE, SIZE)
    assert np.array_equal(filled[0], squares((10, 10))[0])
    assert coco_mask_ap([prediction], [truth])["AP"] == pytest.approx(1.0)


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="scores"):
        ImagePrediction(squares((0, 0)), scores=[0.5, 0.4], labels=[1])
    with pytest.raises(ValueError, match="differ in size"):
        small = ImagePrediction(np.zeros((1, 8, 8), bool), scores=[0.5], labels=[1])
        coco_mask_ap([small], [two_cells()])
    with pytest.raises(ValueError, match="images"):
        coco_mask_ap([], [two_cells()])
