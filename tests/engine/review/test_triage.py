"""Triage from the queue: accept, reject and reclassify give undoable edits that
reach the disk when the dataset is saved."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.annotations import Dataset, Origin, ReviewState
from engine.annotations.edits import AddCell, EditGroup, SetReviewState
from engine.predictions import ImagePredictions, PredictedCell, PredictionStore
from engine.review import (
    ReviewError,
    ReviewSource,
    accept,
    collect_candidates,
    load_decisions,
    reclassify,
    reject,
)


def queue_of(sample):
    dataset = sample.open()
    source = ReviewSource.for_dataset(dataset, sample.run)
    return dataset, source, collect_candidates(source)


def find(queue, image_key, ref):
    return next(c for c in queue if (c.image_key, c.ref) == (image_key, ref))


def labels_of(sample, image_key):
    path = sample.root / ".cervix" / "labels" / f"{image_key}.json"
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_accepting_a_saved_cell_marks_it_accepted_on_disk(sample):
    dataset, _, queue = queue_of(sample)
    triage = accept(find(queue, sample.koilo, "cell 1"), dataset)

    # The class already agrees, so only the review state changes.
    assert isinstance(triage.edit, EditGroup)
    assert [type(edit) for edit in triage.edit.edits] == [SetReviewState]
    triage.apply(dataset)
    dataset.save_all("reviewer")

    entry = labels_of(sample, sample.koilo)["1"]
    assert entry["review_state"] == "accepted"
    assert "class" not in entry  # still the folder's class
    assert "review accepted" in entry["history"][-1]["what"]


def test_accepting_takes_the_models_class(sample):
    dataset, _, queue = queue_of(sample)
    accept(find(queue, sample.koilo, "cell 2"), dataset).apply(dataset)
    dataset.save_all("reviewer")

    entry = labels_of(sample, sample.koilo)["2"]
    assert (entry["class"], entry["review_state"]) == ("metaplastic", "accepted")
    reopened = Dataset.open(sample.root).image(sample.koilo).cell(2)
    assert reopened.class_name == "metaplastic"


def test_accepting_a_predicted_cell_adds_it_as_a_model_cell(sample):
    dataset, _, queue = queue_of(sample)
    before = {path.name for path in dataset.image(sample.koilo).path.parent.iterdir()}
    triage = accept(find(queue, sample.koilo, "predicted 3"), dataset)

    assert isinstance(triage.edit, AddCell)
    triage.apply(dataset)
    dataset.save_all("reviewer")

    folder = dataset.image(sample.koilo).path.parent
    added = {path.name for path in folder.iterdir()} - before
    assert added == {"001_cyt09.dat", "001_nuc09.dat"}
    cell = Dataset.open(sample.root).image(sample.koilo).cell(9)
    assert cell.class_name == "dyskeratotic"
    assert cell.origin is Origin.MODEL
    assert cell.review_state is ReviewState.ACCEPTED
    assert cell.score == pytest.approx(0.7)
    assert np.allclose(cell.cytoplasm, sample.koilo_empty_square)
    assert cell.nucleus is not None
    entry = labels_of(sample, sample.koilo)["9"]
    assert entry["origin"] == "model"
    assert entry["probabilities"]["dyskeratotic"] == pytest.approx(0.7)


def test_rejecting_a_saved_cell_and_a_predicted_cell(sample):
    dataset, source, queue = queue_of(sample)
    saved = reject(find(queue, sample.para, "cell 1"), dataset)
    lone = reject(find(queue, sample.para, "predicted 2"), dataset, source.store)

    assert lone.edit is None and lone.decision is not None
    saved.apply(dataset)
    lone.apply(dataset)
    dataset.save_all("reviewer")

    assert labels_of(sample, sample.para)["1"]["review_state"] == "rejected"
    decisions = load_decisions(sample.store, sample.run, sample.para)
    assert decisions[2].review_state is ReviewState.REJECTED
    assert decisions[2].when  # recorded with its time


def test_reclassifying_sets_the_class_and_marks_it_corrected(sample):
    dataset, _, queue = queue_of(sample)
    reclassify(find(queue, sample.koilo, "cell 2"), "dyskeratotic", dataset).apply(
        dataset
    )
    dataset.save_all("reviewer")

    entry = labels_of(sample, sample.koilo)["2"]
    assert (entry["class"], entry["review_state"]) == ("dyskeratotic", "corrected")


def test_every_decision_can_be_taken_back(sample):
    dataset, source, queue = queue_of(sample)
    decisions = [
        accept(find(queue, sample.koilo, "predicted 3"), dataset),
        reclassify(find(queue, sample.koilo, "cell 1"), "parabasal", dataset),
        reject(find(queue, sample.para, "predicted 2"), dataset, source.store),
    ]
    for triage in decisions:
        triage.apply(dataset)
    assert len(collect_candidates(source)) == 44 - 3

    for triage in reversed(decisions):
        triage.revert(dataset)
    restored = collect_candidates(source)
    assert len(restored) == 44
    assert dataset.image(sample.koilo).cell(1).class_name == "koilocytotic"
    assert not dataset.is_modified(dataset.image(sample.koilo))
    assert load_decisions(sample.store, sample.run, sample.para) == {}


def test_a_class_outside_the_dataset_is_refused(sample):
    dataset, _, queue = queue_of(sample)
    with pytest.raises(ReviewError, match="not a class"):
        reclassify(queue[0], "carcinoma", dataset)


def test_a_predicted_cell_needs_its_store_to_be_rejected(sample):
    dataset, _, queue = queue_of(sample)
    with pytest.raises(ReviewError, match="prediction store"):
        reject(find(queue, sample.koilo, "predicted 3"), dataset)


def test_on_a_slide_decisions_go_to_the_decisions_file(tmp_path):
    slide = tmp_path / "smear.ome.tif"
    store = PredictionStore.for_slide(slide)
    square = np.array([[0, 0], [30, 0], [30, 30], [0, 30]], dtype=np.float64)
    store.save_cells(
        "run-a",
        ImagePredictions(
            "smear",
            (5000, 4000),
            [
                PredictedCell(1, square, probabilities={"koilocytotic": 0.9}),
                PredictedCell(2, square + 100, probabilities={"parabasal": 0.9}),
            ],
        ),
    )
    source = ReviewSource.for_slide(slide, "run-a")
    first, second = collect_candidates(source)
    accept(first, store=store).apply()
    reclassify(second, "metaplastic", store=store).apply()

    decisions = load_decisions(store, "run-a", "smear")
    assert decisions[1].review_state is ReviewState.ACCEPTED
    assert decisions[1].class_name == "koilocytotic"
    assert decisions[2].review_state is ReviewState.CORRECTED
    assert decisions[2].class_name == "metaplastic"
    assert collect_candidates(source) == []
