"""The review queue: the most suspicious cells first, each linked to its place."""

from __future__ import annotations

import numpy as np
import pytest

from engine.annotations import ReviewState
from engine.predictions import ImagePredictions, PredictedCell, PredictionStore
from engine.review import (
    ReviewError,
    ReviewSource,
    accept,
    collect_candidates,
    group_by_class,
    image_candidates,
    reject,
)


def refs(candidates, count=None):
    return [(c.image_key, c.ref) for c in candidates[:count]]


def test_the_queue_follows_the_abnormal_probability(sample):
    dataset = sample.open()
    queue = collect_candidates(ReviewSource.for_dataset(dataset, sample.run))

    assert refs(queue, 5) == [
        (sample.koilo, "cell 1"),
        (sample.koilo, "predicted 3"),
        (sample.para, "predicted 2"),
        (sample.koilo, "cell 2"),
        (sample.para, "cell 1"),
    ]
    assert [round(c.abnormal_probability, 3) for c in queue[:5]] == [
        0.95,
        0.8,
        0.4,
        0.35,
        0.01,
    ]
    # Cells no model saw tie at 0 and follow by image key, then cell index.
    rest = queue[5:]
    assert all(c.abnormal_probability == 0 for c in rest)
    assert refs(rest, 3) == [
        ("im_Dyskeratotic/001", "cell 1"),
        ("im_Dyskeratotic/001", "cell 2"),
        ("im_Dyskeratotic/001", "cell 3"),
    ]
    assert [c.image_key for c in rest] == sorted(c.image_key for c in rest)
    # 42 distinct annotation cells (isolated crops are not counted again) and
    # the two predicted cells on empty glass.
    assert len(queue) == 44


def test_a_predicted_cell_on_an_annotation_is_that_cell(sample):
    dataset = sample.open()
    top = collect_candidates(ReviewSource.for_dataset(dataset, sample.run))[0]
    cell = dataset.image(sample.koilo).cell(1)

    assert (top.annotation_index, top.predicted_id, top.run) == (1, 1, sample.run)
    assert top.kind == "annotation"
    assert top.overlap == pytest.approx(1.0)
    assert top.predicted_class == "koilocytotic"
    assert top.annotation_class == "koilocytotic"
    assert top.probabilities["dyskeratotic"] == pytest.approx(0.05)
    assert top.bounds == cell.bounds
    x_min, y_min, x_max, y_max = cell.bounds
    assert x_min < top.centre[0] < x_max and y_min < top.centre[1] < y_max


def test_a_predicted_cell_on_empty_glass_is_centred_on_its_outline(sample):
    dataset = sample.open()
    queue = collect_candidates(ReviewSource.for_dataset(dataset, sample.run))
    lone = queue[1]
    left, top = sample.koilo_empty_square[0]

    assert (lone.annotation_index, lone.predicted_id) == (None, 3)
    assert lone.kind == "predicted"
    assert lone.bounds == (left, top, left + 20, top + 20)
    assert lone.centre == pytest.approx((left + 10, top + 10))
    assert lone.nucleus is not None
    assert lone.review_state is ReviewState.UNREVIEWED


def test_groups_by_predicted_class_keep_the_rank_order(sample):
    dataset = sample.open()
    queue = collect_candidates(ReviewSource.for_dataset(dataset, sample.run))
    groups = group_by_class(queue, dataset.scheme)

    assert list(groups) == [
        "superficial-intermediate",
        "parabasal",
        "metaplastic",
        "koilocytotic",
        "dyskeratotic",
        None,
    ]
    assert refs(groups["dyskeratotic"]) == [(sample.koilo, "predicted 3")]
    assert refs(groups["metaplastic"]) == [(sample.koilo, "cell 2")]
    assert len(groups[None]) == 44 - 5


def test_reviewed_cells_leave_the_queue_unless_asked_for(sample):
    dataset = sample.open()
    source = ReviewSource.for_dataset(dataset, sample.run)
    queue = collect_candidates(source)
    accept(queue[0], dataset).apply(dataset)
    reject(queue[1], dataset, source.store).apply(dataset)

    after = collect_candidates(source)
    assert refs(after, 2) == [(sample.para, "predicted 2"), (sample.koilo, "cell 2")]
    assert len(after) == 42

    everything = collect_candidates(source, include_reviewed=True)
    assert refs(everything, 2) == [
        (sample.koilo, "cell 1"),
        (sample.koilo, "predicted 3"),
    ]
    assert [c.review_state for c in everything[:2]] == [
        ReviewState.ACCEPTED,
        ReviewState.REJECTED,
    ]


def test_a_rejected_predicted_cell_does_not_come_back(sample):
    dataset = sample.open()
    source = ReviewSource.for_dataset(dataset, sample.run)
    lone = collect_candidates(source)[1]
    reject(lone, dataset, source.store).apply(dataset)

    reopened = ReviewSource.for_dataset(sample.open(), sample.run)
    assert (sample.koilo, "predicted 3") not in refs(collect_candidates(reopened))
    assert (sample.store.root / sample.run / f"{sample.koilo}.decisions.json").exists()


def test_one_image_or_a_set_of_images(sample):
    source = ReviewSource.for_dataset(sample.open(), sample.run)

    koilo = collect_candidates(source, [sample.koilo])
    assert {c.image_key for c in koilo} == {sample.koilo}
    assert len(koilo) == 9  # 8 annotation cells and predicted cell 3
    both = collect_candidates(source, [sample.para, sample.meta])
    assert refs(both, 2) == [(sample.para, "predicted 2"), (sample.para, "cell 1")]
    assert len(image_candidates(source, sample.meta)) == 8


def test_without_a_run_the_queue_is_the_saved_cells(sample):
    source = ReviewSource.for_dataset(sample.open())
    queue = collect_candidates(source)

    assert len(queue) == 42
    assert all(c.predicted_id is None and c.run is None for c in queue)


def test_a_slide_is_reviewed_from_its_store_alone(tmp_path):
    slide = tmp_path / "smear.ome.tif"
    store = PredictionStore.for_slide(slide)
    square = np.array([[0, 0], [30, 0], [30, 30], [0, 30]], dtype=np.float64)
    store.save_cells(
        "run-a",
        ImagePredictions(
            "smear",
            (5000, 4000),
            [
                PredictedCell(7, square + 1000, probabilities={"parabasal": 1.0}),
                PredictedCell(
                    3,
                    square + 2000,
                    probabilities={"dyskeratotic": 0.6, "parabasal": 0.4},
                ),
            ],
        ),
    )
    source = ReviewSource.for_slide(slide, "run-a")
    queue = collect_candidates(source)

    assert refs(queue) == [("smear", "predicted 3"), ("smear", "predicted 7")]
    assert queue[0].predicted_class == "dyskeratotic"
    assert queue[0].centre == pytest.approx((2015, 2015))
    with pytest.raises(ReviewError, match="run-b"):
        ReviewSource.for_slide(slide, "run-b")
