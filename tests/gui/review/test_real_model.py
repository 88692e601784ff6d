"""The review on a real model's run: a tiny CNN trained on the synthetic sample
classified its cells (see `model_run_root`); the gallery in the main window ranks
them by the stored probabilities, keyboard triage is saved with Ctrl+S and read
back by reopening the dataset, the summary is exported as CSV and PDF, the
training queue starts where the model is least sure or contradicts the
annotation, and a click where a cell's outline was deleted proposes the run's
outline of it (a classifier run keeps the outlines it classified)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QFileDialog

from engine.annotations import Dataset, Origin, ReviewState
from engine.predictions import PredictionStore
from tests.gui.review.conftest import MODEL_RUN, click_image

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


def _lone_point(image):
    """A cell of `image` and a point inside it that no other cell covers."""
    from shapely.geometry import Polygon
    from shapely.ops import unary_union

    for cell in image.cells:
        others = unary_union(
            [Polygon(other.cytoplasm) for other in image.cells if other is not cell]
        )
        alone = Polygon(cell.cytoplasm).buffer(0).difference(others.buffer(1.0))
        if alone.area > 4.0:
            point = alone.representative_point()
            return cell, (point.x, point.y)
    return None, None


def test_a_click_where_a_cell_was_deleted_proposes_the_runs_outline(
    window, open_in, model_dataset, qtbot, idle
):
    from engine.annotations.edits import DeleteCell

    stored = _stored_cells(model_dataset)
    assert open_in(model_dataset)
    dataset = window.dataset
    image, cell, point = None, None, None
    for candidate in dataset.images:
        cell, point = _lone_point(candidate)
        if cell is not None:
            image = candidate
            break
    assert image is not None, "some cell has a part no other cell covers"
    window.show_image(image.key)
    # The window measures the cells it shows; a measuring of the cells before
    # the deletion that ends after it is not this test's subject.
    idle()
    session = window.editing.session
    assert session.do(DeleteCell.of(image, cell.index))
    assert session.save_all().ok  # the cell is gone from the annotations
    where = QPointF(*point)
    qtbot.waitUntil(lambda: window.viewer.cell_at(where) is None, timeout=5000)
    idle()

    window.review.use_assist()
    tool = window.review.assist
    click_image(qtbot, window, *point)
    assert tool.proposal is not None, window.status.currentMessage()
    probabilities = stored[(image.key, tool.proposal.predicted_id)]
    assert tool.proposal.probabilities == pytest.approx(probabilities)
    window.activateWindow()
    window.viewer.view.setFocus()
    qtbot.keyClick(window.viewer.view, Qt.Key.Key_Return)
    assert session.save_all().ok

    added = Dataset.open(model_dataset).image(image.key).cells[-1]
    assert added.origin is Origin.MODEL
    assert added.review_state is ReviewState.ACCEPTED
    assert added.class_name == max(probabilities, key=probabilities.get)
    assert np.allclose(
        added.cytoplasm.mean(axis=0), cell.cytoplasm.mean(axis=0), atol=1
    )
    idle()
