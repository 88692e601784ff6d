"""The review on a real model's run: a tiny CNN trained on the synthetic sample
classified its cells (see `model_run_root`); the gallery in the main window ranks
them by the stored probabilities, keyboard triage is saved with Ctrl+S and read
back by reopening the dataset, the summary is exported as CSV and PDF, and the
training queue starts where the model is
least sure or contradicts the annotation."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from engine.annotations import Dataset, ReviewState
from engine.predictions import PredictionStore
from tests.gui.review.conftest import MODEL_RUN

ABNORMAL = ("koilocytotic", "dyskeratotic")


def _stored_cells(root) -> dict:
    """(image key, predicted id) -> the stored probabilities of the run."""
    store = PredictionStore.for_dataset(root)
    return {
        (key, cell.id): cell.probabilities
        for key in store.images_with_cells(MODEL_RUN)
        for cell in store.load_cells(MODEL_RUN, key).cells
    }


def _open_gallery(window, open_in, root, qtbot):
    assert open_in(root)
    review = window.review
    qtbot.waitUntil(lambda: review.gallery.model.rowCount() > 0, timeout=20000)
    assert review.gallery_dock.isVisible(), "a run to review shows the gallery"
    return review.gallery


def _cell(candidate) -> tuple:
    return candidate.image_key, candidate.annotation_index


def _key(qtbot, gallery, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    gallery.view.setFocus()
    qtbot.keyClick(gallery.view, key, modifier)
    qtbot.wait(1)


def test_the_gallery_ranks_a_real_models_cells_and_triage_reaches_the_disk(
    window, open_in, model_dataset, qtbot, idle, tmp_path, monkeypatch
):
    stored = _stored_cells(model_dataset)
    gallery = _open_gallery(window, open_in, model_dataset, qtbot)

    candidates = gallery.model.candidates
    assert len(candidates) == len(stored), "every classified cell is in the queue"
    abnormal = {
        cell: sum(p for name, p in probs.items() if name in ABNORMAL)
        for cell, probs in stored.items()
    }
    shown = [(c.image_key, c.predicted_id) for c in candidates]
    assert [abnormal[cell] for cell in shown] == pytest.approx(
        sorted(abnormal.values(), reverse=True)
    )
    assert len(set(np.round(list(abnormal.values()), 3))) > 10, "varied output"
    first = gallery.model.index(0).data(Qt.ItemDataRole.DisplayRole)
    assert f"abnormal {max(abnormal.values()):.2f}" in first

    total = len(candidates)
    accepted, rejected, corrected, skipped = candidates[:4]
    names = window.dataset.scheme.names
    _key(qtbot, gallery, Qt.Key.Key_A)
    _key(qtbot, gallery, Qt.Key.Key_R)
    _key(qtbot, gallery, Qt.Key.Key_3)
    assert _cell(gallery.current()) == _cell(skipped)
    _key(qtbot, gallery, Qt.Key.Key_N)
    assert _cell(gallery.current()) != _cell(skipped)
    _key(qtbot, gallery, Qt.Key.Key_P)
    assert _cell(gallery.current()) == _cell(skipped)
    assert window.current_record().key == skipped.image_key
    assert window.viewer.selection.cells == (skipped.annotation_index,)

    left = {_cell(c) for c in gallery.model.candidates}
    assert gallery.model.rowCount() == total - 3, "decided cells leave the queue"
    for decided in (accepted, rejected, corrected):
        assert _cell(decided) not in left

    _key(qtbot, gallery, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.editing.session.has_unsaved(), timeout=10000)

    reopened = Dataset.open(model_dataset)

    def saved(candidate):
        image = reopened.image(candidate.image_key)
        return image.cell(candidate.annotation_index)

    assert saved(accepted).review_state is ReviewState.ACCEPTED
    assert saved(accepted).class_name == accepted.predicted_class
    assert saved(rejected).review_state is ReviewState.REJECTED
    assert saved(corrected).review_state is ReviewState.CORRECTED
    assert saved(corrected).class_name == names[2]
    assert saved(skipped).review_state is ReviewState.UNREVIEWED

    # The summary of the saved review, exported as CSV and as the PDF report
    # with a thumbnail per confirmed abnormal cell.
    assert accepted.predicted_class in ABNORMAL, "the top cell looks abnormal"
    confirmed = 1
    summary = window.review.summary
    summary.refresh()
    out = tmp_path / "out"
    out.mkdir()
    _answer(monkeypatch, out / "summary.csv")
    qtbot.mouseClick(summary.csv_button, Qt.MouseButton.LeftButton)
    total = list(csv.DictReader((out / "summary.csv").open()))[-1]
    assert (total["image"], int(total["cells"])) == ("TOTAL", len(stored))
    assert int(total["unreviewed"]) == len(stored) - 3
    assert int(total["rejected"]) == 1
    assert int(total["confirmed_abnormal"]) == confirmed
    assert int(total[f"reviewed_{names[2]}"]) >= 1
    _answer(monkeypatch, out / "report.pdf")
    qtbot.mouseClick(summary.pdf_button, Qt.MouseButton.LeftButton)
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Subtype /Image") == confirmed
    idle()


def _answer(monkeypatch, path) -> None:
    """The save dialog answers `path`, as a person would."""
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(path), "")
    )


def _entropy(probabilities: dict) -> float:
    values = np.array([p for p in probabilities.values() if p > 0])
    return float(-(values * np.log(values)).sum() / np.log(len(probabilities)))


def test_the_training_queue_starts_where_the_real_model_is_least_sure(
    window, open_in, model_dataset, qtbot, idle
):
    stored = _stored_cells(model_dataset)
    gallery = _open_gallery(window, open_in, model_dataset, qtbot)
    gallery.queue.setCurrentText("Training queue")

    def worth(candidate) -> float:
        probabilities = stored[(candidate.image_key, candidate.predicted_id)]
        predicted = max(probabilities, key=probabilities.get)
        return _entropy(probabilities) + (predicted != candidate.annotation_class)

    queue = gallery.model.candidates
    assert len(queue) == len(stored)
    assert worth(queue[0]) == pytest.approx(max(worth(c) for c in queue))
    assert [worth(c) for c in queue] == sorted((worth(c) for c in queue), reverse=True)

    # The next cell of the queue is shown and selected in the viewer.
    _key(qtbot, gallery, Qt.Key.Key_N)
    assert window.current_record().key == queue[1].image_key
    assert window.viewer.selection.cells == (queue[1].annotation_index,)
    idle()
