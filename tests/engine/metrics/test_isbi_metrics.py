"""The ISBI 2014 overlapping-cell scores (Dice of good matches, FNRo, TPRp,
FPRp): hand-computed cases, and the challenge's own training truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import scipy.io

from engine.metrics.instances import aggregate_isbi, isbi_overlap_metrics

SIZE = 100


def square(top, left, side=20, size=SIZE):
    mask = np.zeros((size, size), dtype=bool)
    mask[top : top + side, left : left + side] = True
    return mask


@pytest.fixture(scope="module")
def isbi_truth(shared_data):
    """The true cell masks of the ISBI 2014 training images, (n, 512, 512) each."""
    path = shared_data / "isbi2014" / "synthetic" / "isbi_train_GT.mat"
    content = scipy.io.loadmat(path)
    images = []
    for cells in content["train_Cytoplasm"][:, 0]:
        images.append(np.stack([cell != 0 for cell in cells[:, 0]]))
    cell_counts = content["CellNum"][:, 0].astype(int)
    return images, cell_counts


def test_found_shifted_and_missed_cells_give_hand_computed_scores():
    # Cell 1 found exactly. Cell 2 (20x20) found 4 pixels to the right: 320 of
    # its 400 pixels, Dice 640/800 = 0.8, and 80 pixels outside it, of the
    # 10000 - 400 pixels outside. Cell 3 missed.
    truth = [square(10, 10), square(50, 50), square(80, 10, side=10)]
    predicted = [square(10, 10), square(50, 54)]

    result = isbi_overlap_metrics(predicted, truth)

    assert result["cells"] == 3 and result["matched"] == 2
    assert result["fnro"] == pytest.approx(1 / 3)
    assert result["dice"] == pytest.approx((1.0 + 0.8) / 2)
    assert result["tprp"] == pytest.approx((1.0 + 0.8) / 2)
    assert result["fprp"] == pytest.approx((0.0 + 80 / 9600) / 2)
    assert result["fdro"] == 0.0


def test_dice_of_exactly_0_7_is_not_a_good_match():
    # Shifted 6 pixels: 280 shared pixels, Dice 560/800 = 0.7, not above it.
    result = isbi_overlap_metrics([square(40, 46)], [square(40, 40)])

    assert result["matched"] == 0
    assert result["fnro"] == 1.0
    assert result["fdro"] == 1.0


def test_one_prediction_covering_two_overlapping_cells_counts_once():
    # Two cells sharing 360 of their 400 pixels; one prediction of their
    # union has Dice 800/840 with each.
    first, second = square(0, 0), square(0, 2)
    union = first | second

    one_to_one = isbi_overlap_metrics([union], [first, second])
    shared = isbi_overlap_metrics([union], [first, second], one_to_one=False)

    assert one_to_one["matched"] == 1 and one_to_one["fnro"] == 0.5
    assert shared["matched"] == 2 and shared["fnro"] == 0.0
    assert shared["dice"] == pytest.approx(800 / 840)


def test_each_cell_takes_the_prediction_it_overlaps_most():
    truth = [square(10, 10), square(60, 60)]
    # Listed in the opposite order, and one more prediction far from both.
    predicted = np.stack([square(61, 60), square(10, 11), square(40, 0, side=5)])

    result = isbi_overlap_metrics(predicted, truth)

    assert result["matched"] == 2
    assert result["dice"] == pytest.approx(2 * 380 / 800)
    assert result["fdro"] == pytest.approx(1 / 3)


def test_no_predictions_miss_every_cell():
    truth = np.stack([square(10, 10), square(50, 50)])

    result = isbi_overlap_metrics(np.zeros((0, SIZE, SIZE), bool), truth)

    assert result["matched"] == 0 and result["cells"] == 2
    assert result["fnro"] == 1.0
    assert result["dice"] == 0.0


def test_image_without_true_cells_misses_nothing():
    result = isbi_overlap_metrics([square(10, 10)], np.zeros((0, SIZE, SIZE), bool))

    assert result["cells"] == 0 and result["fnro"] == 0.0
    assert result["predicted"] == 1 and result["fdro"] == 1.0


def test_masks_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match="one shape"):
        isbi_overlap_metrics([square(0, 0, size=50)], [square(0, 0)])


def test_set_scores_average_over_cells_not_images():
    # Image A: one cell found exactly (Dice 1). Image B: three cells each
    # shifted 4 pixels (Dice 0.8). Over cells: (1 + 3 * 0.8) / 4 = 0.85; a
    # mean over images would say 0.9.
    image_a = isbi_overlap_metrics([square(10, 10)], [square(10, 10)])
    truth_b = [square(0, 0), square(0, 40), square(40, 0)]
    predicted_b = [square(0, 4), square(0, 44), square(40, 4)]
    image_b = isbi_overlap_metrics(predicted_b, truth_b)
    image_c = isbi_overlap_metrics([], [square(60, 60)])

    overall = aggregate_isbi([image_a, image_b, image_c])

    assert overall["dice"] == pytest.approx(0.85)
    assert overall["tprp"] == pytest.approx(0.85)
    assert overall["cells"] == 5 and overall["matched"] == 4
    assert overall["fnro"] == pytest.approx(1 / 5)


def test_isbi_truth_against_itself_scores_perfectly(isbi_truth):
    images, cell_counts = isbi_truth
    per_image = []
    for index in (0, 12, 44):
        result = isbi_overlap_metrics(images[index], images[index])
        assert result["cells"] == cell_counts[index]
        assert result["matched"] == cell_counts[index]
        per_image.append(result)

    overall = aggregate_isbi(per_image)

    assert overall["dice"] == 1.0 and overall["tprp"] == 1.0
    assert overall["fnro"] == 0.0 and overall["fprp"] == 0.0


def test_eroded_isbi_cells_stay_matched_with_the_dice_their_pixels_give(isbi_truth):
    images, _ = isbi_truth
    truth = images[44]  # ten overlapping cells
    kernel = np.ones((3, 3), np.uint8)
    eroded = np.stack(
        [cv2.erode(cell.astype(np.uint8), kernel, iterations=3) != 0 for cell in truth]
    )

    result = isbi_overlap_metrics(eroded, truth)

    # An eroded cell lies inside its true cell: |P∩T| = |P|, nothing outside.
    eroded_areas = eroded.reshape(len(eroded), -1).sum(axis=1)
    true_areas = truth.reshape(len(truth), -1).sum(axis=1)
    expected_dice = np.mean(2 * eroded_areas / (eroded_areas + true_areas))
    assert result["matched"] == len(truth) and result["fnro"] == 0.0
    assert result["dice"] == pytest.approx(expected_dice)
    assert 0.7 < result["dice"] < 1.0
    assert result["tprp"] == pytest.approx(np.mean(eroded_areas / true_areas))
    assert result["fprp"] == 0.0


def test_dilated_isbi_cells_show_false_positive_pixels(isbi_truth):
    images, _ = isbi_truth
    truth = images[20]
    kernel = np.ones((3, 3), np.uint8)
    dilated = np.stack(
        [cv2.dilate(cell.astype(np.uint8), kernel, iterations=2) != 0 for cell in truth]
    )

    result = isbi_overlap_metrics(list(dilated), truth)

    extra = (dilated & ~truth).reshape(len(truth), -1).sum(axis=1)
    outside = truth[0].size - truth.reshape(len(truth), -1).sum(axis=1)
    assert result["fnro"] == 0.0 and result["tprp"] == 1.0
    assert result["fprp"] == pytest.approx(np.mean(extra / outside))
    assert 0.0 < result["fprp"] < 0.01
