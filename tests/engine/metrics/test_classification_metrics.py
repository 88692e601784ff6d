"""The classifier's report: accuracy, macro F1, per-class scores and the confusion
matrix, checked against numbers worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.metrics.classification import classification_report

CLASSES = ["superficial-intermediate", "parabasal", "koilocytotic"]

# Rows are true classes, columns predicted classes.
KNOWN_CONFUSION = [
    [3, 1, 0],
    [1, 2, 0],
    [0, 1, 2],
]


def labels_from_confusion(confusion, seed=0):
    """True and predicted labels that produce `confusion`, in a shuffled order."""
    pairs = [
        (true, predicted)
        for true, row in enumerate(confusion)
        for predicted, count in enumerate(row)
        for _ in range(count)
    ]
    order = np.random.default_rng(seed).permutation(len(pairs))
    y_true = [pairs[i][0] for i in order]
    y_pred = [pairs[i][1] for i in order]
    return y_true, y_pred


def test_perfect_predictions_score_one_everywhere():
    y_true = [0, 1, 2, 2, 1, 0, 0]

    report = classification_report(y_true, y_true, CLASSES)

    assert report.accuracy == 1.0
    assert report.macro_f1 == 1.0
    assert all(value == 1.0 for value in report.precision.values())
    assert all(value == 1.0 for value in report.recall.values())
    assert report.confusion == ((3, 0, 0), (0, 2, 0), (0, 0, 2))


def test_known_confusion_matrix_gives_hand_computed_scores():
    y_true, y_pred = labels_from_confusion(KNOWN_CONFUSION)

    report = classification_report(y_true, y_pred, CLASSES)

    # By hand: TP = 3, 2, 2 of 10 cells. Precision 3/4, 2/4, 2/2; recall 3/4,
    # 2/3, 2/3; F1 3/4, 4/7, 4/5; macro F1 their plain mean.
    assert report.confusion == tuple(tuple(row) for row in KNOWN_CONFUSION)
    assert report.accuracy == pytest.approx(0.7, abs=1e-6)
    assert report.precision == pytest.approx(
        {"superficial-intermediate": 0.75, "parabasal": 0.5, "koilocytotic": 1.0},
        abs=1e-6,
    )
    assert report.recall == pytest.approx(
        {"superficial-intermediate": 0.75, "parabasal": 2 / 3, "koilocytotic": 2 / 3},
        abs=1e-6,
    )
    assert report.f1["parabasal"] == pytest.approx(4 / 7, abs=1e-6)
    assert report.macro_f1 == pytest.approx((0.75 + 4 / 7 + 0.8) / 3, abs=1e-6)
    assert report.support == {
        "superficial-intermediate": 4,
        "parabasal": 3,
        "koilocytotic": 3,
    }


def test_class_absent_from_truth_and_prediction_is_left_out_of_macro_f1():
    y_true, y_pred = labels_from_confusion(KNOWN_CONFUSION)
    four_classes = [*CLASSES, "dyskeratotic"]

    with_absent = classification_report(y_true, y_pred, four_classes)
    without = classification_report(y_true, y_pred, CLASSES)

    assert with_absent.macro_f1 == pytest.approx(without.macro_f1, abs=1e-6)
    assert with_absent.support["dyskeratotic"] == 0
    assert with_absent.confusion[3] == (0, 0, 0, 0)


def test_class_predicted_but_never_true_counts_with_f1_zero():
    # Two cells of class 0, one of them wrongly called class 1, which never occurs.
    report = classification_report([0, 0], [0, 1], ["normal", "abnormal"])

    # F1 of class 0: precision 1, recall 1/2, so 2/3; class 1: 0. Mean 1/3.
    assert report.f1["abnormal"] == 0.0
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.0) / 2, abs=1e-6)
    assert report.accuracy == pytest.approx(0.5)


def test_probabilities_are_scored_by_their_most_likely_class():
    y_true, y_pred = labels_from_confusion(KNOWN_CONFUSION)
    probabilities = np.full((len(y_pred), 3), 0.1)
    probabilities[np.arange(len(y_pred)), y_pred] = 0.8

    from_indices = classification_report(y_true, y_pred, CLASSES)
    from_probabilities = classification_report(y_true, probabilities, CLASSES)

    assert from_probabilities == from_indices


def test_table_shows_class_names_and_confusion_rows():
    y_true, y_pred = labels_from_confusion(KNOWN_CONFUSION)

    table = classification_report(y_true, y_pred, CLASSES).format_table()

    assert "superficial-intermediate" in table
    assert "accuracy" in table and "0.700" in table
    confusion_lines = table.split("confusion matrix")[1].splitlines()
    koilocytotic_row = next(line for line in confusion_lines if "koilocytotic" in line)
    assert koilocytotic_row.split()[-3:] == ["0", "1", "2"]


def test_report_round_trips_through_json():
    y_true, y_pred = labels_from_confusion(KNOWN_CONFUSION)

    data = json.loads(
        json.dumps(classification_report(y_true, y_pred, CLASSES).to_json())
    )

    assert data["class_names"] == CLASSES
    assert data["cells"] == 10
    assert data["confusion"] == KNOWN_CONFUSION
    assert data["accuracy"] == pytest.approx(0.7, abs=1e-6)


def test_labels_outside_the_class_list_are_refused():
    with pytest.raises(ValueError, match="0..2"):
        classification_report([0, 1, 3], [0, 1, 2], CLASSES)


def test_empty_evaluation_set_is_refused():
    with pytest.raises(ValueError, match="no cells"):
        classification_report([], [], CLASSES)
