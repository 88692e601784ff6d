"""Dice and IoU of the semantic segmentation, per channel and accumulated over
batches, checked on masks whose scores are worked out by hand."""

from __future__ import annotations

import pytest
import torch

from engine.metrics.segmentation import SegmentationScores

CHANNELS = ["cell", "nucleus"]


def square(size=32, top=0, left=0, side=10):
    mask = torch.zeros(size, size)
    mask[top : top + side, left : left + side] = 1.0
    return mask


def as_logits(mask):
    """Confident logits that threshold back to `mask`."""
    return mask * 20.0 - 10.0


def test_perfect_prediction_scores_one():
    target = torch.stack([square(), square(top=2, left=2, side=4)])[None]
    scores = SegmentationScores(CHANNELS)

    scores.update(as_logits(target), target)

    for channel in CHANNELS:
        assert scores.compute()[channel] == {
            "dice": 1.0,
            "iou": 1.0,
            "dice_micro": 1.0,
            "iou_micro": 1.0,
        }
    assert scores.mean_dice == 1.0


def test_shifted_square_gives_hand_computed_dice_and_iou():
    # A 10x10 square predicted 2 pixels to the right: 80 pixels shared of 100
    # each, so Dice 2*80/200 = 0.8 and IoU 80/120.
    target = torch.stack([square(), square()])[None]
    predicted = torch.stack([square(left=2), square()])[None]
    scores = SegmentationScores(CHANNELS)

    scores.update(as_logits(predicted), target)

    result = scores.compute()
    assert result["cell"]["dice"] == pytest.approx(0.8)
    assert result["cell"]["iou"] == pytest.approx(2 / 3)
    assert result["nucleus"]["dice"] == 1.0
    assert scores.mean_dice == pytest.approx((0.8 + 1.0) / 2)


def test_empty_truth_and_empty_prediction_score_one_but_a_false_alarm_scores_zero():
    empty = torch.zeros(32, 32)
    target = torch.stack([empty, empty])[None]
    predicted = torch.stack([empty, square()])[None]
    scores = SegmentationScores(CHANNELS)

    scores.update(as_logits(predicted), target)

    result = scores.compute()
    assert result["cell"]["dice"] == 1.0 and result["cell"]["iou"] == 1.0
    assert result["nucleus"]["dice"] == 0.0 and result["nucleus"]["iou"] == 0.0


def test_per_image_mean_and_micro_average_over_batches_differ_as_computed():
    # Image 1: a 10x10 nucleus found exactly. Image 2: a 2x2 nucleus missed.
    # Per image: (1 + 0) / 2. Micro: 2*100 / (100 + 104).
    scores = SegmentationScores(["nucleus"])
    found = square()[None, None]
    missed = square(side=2)[None, None]

    scores.update(as_logits(found), found)
    scores.update(as_logits(torch.zeros_like(missed)), missed)

    result = scores.compute()["nucleus"]
    assert scores.images == 2
    assert result["dice"] == pytest.approx(0.5)
    assert result["dice_micro"] == pytest.approx(200 / 204)
    assert result["iou_micro"] == pytest.approx(100 / 104)


def test_probabilities_use_the_given_threshold():
    target = square()[None, None]
    probabilities = target * 0.6

    strict = SegmentationScores(["cell"])
    strict.update(probabilities, target, from_logits=False, threshold=0.7)
    lenient = SegmentationScores(["cell"])
    lenient.update(probabilities, target, from_logits=False, threshold=0.5)

    assert strict.compute()["cell"]["dice"] == 0.0
    assert lenient.compute()["cell"]["dice"] == 1.0


def test_logit_threshold_matches_the_sigmoid_of_the_logits():
    logits = torch.linspace(-3, 3, 32 * 32).reshape(1, 1, 32, 32)
    target = (torch.sigmoid(logits) > 0.3).float()
    scores = SegmentationScores(["cell"])

    scores.update(logits, target, from_logits=True, threshold=0.3)

    assert scores.compute()["cell"]["dice"] == 1.0


def test_reset_forgets_earlier_batches():
    target = square()[None, None]
    scores = SegmentationScores(["cell"])
    scores.update(as_logits(torch.zeros_like(target)), target)

    scores.reset()
    scores.update(as_logits(target), target)

    assert scores.compute()["cell"]["dice"] == 1.0


def test_wrong_shapes_and_scoring_nothing_are_refused():
    scores = SegmentationScores(CHANNELS)
    with pytest.raises(ValueError, match="nothing to score"):
        scores.compute()
    with pytest.raises(ValueError, match="channels"):
        scores.update(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="one shape"):
        scores.update(torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 4, 4))
