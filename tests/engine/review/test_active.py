"""The training queue: uncertain cells and cells where models and people disagree
come first."""

from __future__ import annotations

import math

import pytest

from engine.review import ReviewSource, accept, normalised_entropy, training_queue
from engine.review.active import training_priority


def entropy(probabilities):
    values = [p for p in probabilities.values() if p > 0]
    return -sum(p * math.log(p) for p in values) / math.log(len(probabilities))


def refs(queue, count=None):
    return [(item.candidate.image_key, item.candidate.ref) for item in queue[:count]]


def test_uncertainty_is_entropy_over_the_log_of_the_classes():
    assert normalised_entropy({"a": 1.0, "b": 0.0, "c": 0.0}) == 0.0
    assert normalised_entropy(dict.fromkeys("abcde", 0.2)) == pytest.approx(1.0)
    two_of_five = {"a": 0.5, "b": 0.5, "c": 0.0, "d": 0.0, "e": 0.0}
    assert normalised_entropy(two_of_five) == pytest.approx(math.log(2) / math.log(5))
    assert normalised_entropy(None) == 0.0


def test_disagreement_and_uncertainty_come_first(sample):
    source = ReviewSource.for_dataset(sample.open(), sample.run)
    queue = training_queue(source)

    assert refs(queue, 3) == [
        (sample.koilo, "cell 2"),  # classifier says metaplastic, and off the mask
        (sample.koilo, "predicted 3"),  # nobody outlined it, and off the mask
        (sample.para, "predicted 2"),  # every class equally likely
    ]
    cell_2, lone, uncertain = queue[:3]
    assert cell_2.class_disagrees and not cell_2.unmatched and cell_2.mask_disagrees
    assert cell_2.priority == pytest.approx(
        entropy(
            {"m": 0.60, "k": 0.30, "d": 0.05, "p": 0.03, "s": 0.02},
        )
        + 1.0
        + 0.5
    )
    assert lone.unmatched and lone.mask_iou == 0.0 and not lone.class_disagrees
    assert uncertain.uncertainty == pytest.approx(1.0)
    assert uncertain.mask_iou is None  # no U-Net mask stored for that image
    assert uncertain.priority == pytest.approx(1.5)
    assert "no annotation cell here" in uncertain.reasons


def test_cells_the_instance_model_missed_follow(sample):
    source = ReviewSource.for_dataset(sample.open(), sample.run)
    queue = training_queue(source)

    missed = queue[3:18]
    assert all(item.priority == 0.5 and item.unmatched for item in missed)
    assert refs(missed, 1) == [(sample.koilo, "cell 3")]
    assert {item.candidate.image_key for item in missed} == {sample.koilo, sample.para}
    # A confident match that the U-Net agrees with ranks below them.
    sure = queue[18]
    assert refs([sure]) == [(sample.koilo, "cell 1")]
    assert sure.mask_iou == pytest.approx(1.0)
    assert not sure.reasons
    # Images the run did not predict have nothing to compare.
    assert all(item.priority == 0.0 for item in queue[20:])
    assert len(queue) == 44


def test_reviewed_cells_leave_the_training_queue(sample):
    dataset = sample.open()
    source = ReviewSource.for_dataset(dataset, sample.run)
    top = training_queue(source)[0].candidate
    accept(top, dataset).apply(dataset)

    queue = training_queue(source)
    assert (sample.koilo, "cell 2") not in refs(queue)
    assert refs(queue, 1) == [(sample.koilo, "predicted 3")]
    assert len(training_queue(source, include_reviewed=True)) == 44


def test_the_priority_formula_weighs_a_contradicted_class_most():
    assert training_priority(0.0, True, False, False) == 1.0
    assert training_priority(0.0, False, True, False) == 0.5
    assert training_priority(0.0, False, False, True) == 0.5
    assert training_priority(0.25, True, False, True) == 1.75
