"""Reviewing a slide opened on its own: the gallery's decisions go to the run's
decisions file at once, and each is an undo step (Ctrl+Z, Ctrl+Shift+Z) like an
edit of a dataset's cells."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import Qt

from engine.annotations import ReviewState
from engine.predictions import ImagePredictions, PredictedCell, PredictionStore
from engine.review.decisions import load_decisions
from tests.gui.review.conftest import ellipse

RUN = "slide-run"
# predicted id -> (centre, dyskeratotic probability)
CELLS = {1: ((300, 300), 0.9), 2: ((700, 500), 0.6), 3: ((500, 900), 0.2)}


def _slide_with_run(folder):
    import tifffile

    path = folder / "smear.ome.tif"
    pixels = np.full((1200, 1000, 3), 235, np.uint8)
    for (cx, cy), _ in CELLS.values():
        cv2.circle(pixels, (cx, cy), 40, (150, 190, 200), -1)
        cv2.circle(pixels, (cx, cy), 12, (60, 40, 110), -1)
    tifffile.imwrite(path, pixels, tile=(256, 256), photometric="rgb", ome=True)
    cells = [
        PredictedCell(
            id=cell_id,
            cytoplasm=ellipse(cx, cy, 40, 40),
            nucleus=ellipse(cx, cy, 12, 12),
            score=0.9,
            probabilities={"dyskeratotic": p, "parabasal": 1.0 - p},
            predicted_class="dyskeratotic" if p > 0.5 else "parabasal",
        )
        for cell_id, ((cx, cy), p) in CELLS.items()
    ]
    store = PredictionStore.for_slide(path)
    store.save_cells(RUN, ImagePredictions(path.name, (1000, 1200), cells))
    return path, store


def test_decisions_on_a_slide_are_undoable(window, open_in, tmp_path, qtbot, idle):
    path, store = _slide_with_run(tmp_path)
    assert open_in(path)
    review = window.review
    gallery = review.gallery
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 3, timeout=20000)
    assert [c.predicted_id for c in gallery.model.candidates] == [1, 2, 3]

    gallery.view.setFocus()
    qtbot.keyClick(gallery.view, Qt.Key.Key_R)
    qtbot.keyClick(gallery.view, Qt.Key.Key_A)
    qtbot.wait(1)
    decided = load_decisions(store, RUN, path.name)
    assert decided[1].review_state is ReviewState.REJECTED
    assert decided[2].review_state is ReviewState.ACCEPTED
    assert decided[2].class_name == "dyskeratotic"
    assert [c.predicted_id for c in gallery.model.candidates] == [3]
    # The slide's summary counts them.
    qtbot.waitUntil(lambda: "1 rejected" in review.summary.totals.text(), timeout=5000)
    assert "smear.ome.tif: 3 cells, 1 unreviewed, 1 accepted" in (
        review.summary.totals.text()
    )
    assert "1 confirmed abnormal" in review.summary.totals.text()

    # Ctrl+Z in the window takes the last decision back, on disk too.
    qtbot.keyClick(
        window.viewer.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
    )
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 2, timeout=5000)
    assert set(load_decisions(store, RUN, path.name)) == {1}
    assert [c.predicted_id for c in gallery.model.candidates] == [2, 3]
    review.gallery.slide_decisions.stack.undo()
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 3, timeout=5000)
    assert load_decisions(store, RUN, path.name) == {}

    window.editing.session.group.redo()
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 2, timeout=5000)
    assert load_decisions(store, RUN, path.name)[1].review_state is ReviewState.REJECTED
    idle()
