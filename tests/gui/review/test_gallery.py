"""The review gallery on a run whose probabilities the test chose (see
conftest.py): the most abnormal cells first, keyboard triage saved with the
annotations, the training queue."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from cervix_gui.review.gallery_dock import ReviewGallery
from engine.annotations.project import ProjectFolder
from tests.gui.review.conftest import KOILOCYTOTIC, UNOUTLINED

CTRL = Qt.KeyboardModifier.ControlModifier
# Every cell of the run: the annotated ones and the one only the model found.
KOILOCYTOTIC_CELLS = [p for chances in KOILOCYTOTIC.values() for p in chances] + [
    UNOUTLINED[2]["dyskeratotic"]
]


def _gallery(window, qtbot) -> ReviewGallery:
    gallery = ReviewGallery(window)
    qtbot.addWidget(gallery)
    gallery.resize(600, 500)
    gallery.show()
    gallery.refresh()
    return gallery


def _key(qtbot, gallery, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    gallery.view.setFocus()
    qtbot.keyClick(gallery.view, key, modifier)
    qtbot.wait(1)


def _labels(root, key) -> dict:
    path = ProjectFolder(root).labels_path(key)
    return json.loads(path.read_text())["cells"] if path.exists() else {}


def test_the_most_abnormal_cells_come_first(
    window, open_in, reviewed_dataset, qtbot, idle
):
    open_in(reviewed_dataset)
    gallery = _gallery(window, qtbot)

    shown = [c.abnormal_probability for c in gallery.model.candidates]
    expected = sorted(
        [p for chances in KOILOCYTOTIC.values() for p in chances]
        + [UNOUTLINED[2]["dyskeratotic"]],
        reverse=True,
    )
    assert shown == expected
    first = gallery.model.index(0)
    assert "abnormal 0.95" in first.data(Qt.ItemDataRole.DisplayRole)
    thumbnail = first.data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(thumbnail, QPixmap) and thumbnail.width() == 128

    gallery.class_filter.setCurrentText("koilocytotic")
    classes = {c.predicted_class for c in gallery.model.candidates}
    assert classes == {"koilocytotic"}
    assert gallery.model.rowCount() == 5

    # A click on a thumbnail shows its cell in the viewer, selected.
    gallery.class_filter.setCurrentText("All classes")
    rect = gallery.view.visualRect(gallery.model.index(1))
    qtbot.mouseClick(
        gallery.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
    )
    second = gallery.model.candidates[1]
    assert (second.image_key, second.abnormal_probability) == (
        "im_Koilocytotic/001",
        0.9,
    )
    assert window.current_record().key == "im_Koilocytotic/001"
    assert window.viewer.selection.cells == (second.annotation_index,)
    idle()


def test_keyboard_triage_is_undoable_and_saved(
    window, open_in, reviewed_dataset, qtbot, idle
):
    new_dat = reviewed_dataset / "im_Parabasal" / "im_Parabasal" / "002_cyt02.dat"
    assert not new_dat.exists()
    open_in(reviewed_dataset)
    gallery = _gallery(window, qtbot)
    total = gallery.model.rowCount()

    _key(qtbot, gallery, Qt.Key.Key_A)  # Parabasal/001 cell 1 (0.95): koilocytotic
    _key(qtbot, gallery, Qt.Key.Key_R)  # Koilocytotic/001 cell 1 (0.90): rejected
    _key(qtbot, gallery, Qt.Key.Key_N)  # skip Metaplastic/001 cell 1 (0.80)
    _key(qtbot, gallery, Qt.Key.Key_3)  # the predicted-only cell (0.70): metaplastic
    assert gallery.model.rowCount() == total - 3
    assert gallery.model.candidates[0].abnormal_probability == 0.80

    # Undo takes the last decision back: the cell is in the queue again.
    window.editing.session.stack("im_Parabasal/002").undo()
    qtbot.wait(1)
    assert gallery.model.rowCount() == total - 2
    window.editing.session.stack("im_Parabasal/002").redo()
    qtbot.wait(1)
    assert gallery.model.rowCount() == total - 3

    outcome = window.editing.session.save_all()
    assert outcome.ok, outcome.error
    accepted = _labels(reviewed_dataset, "im_Parabasal/001")["1"]
    assert (accepted["class"], accepted["review_state"]) == ("koilocytotic", "accepted")
    rejected = _labels(reviewed_dataset, "im_Koilocytotic/001")["1"]
    assert rejected["review_state"] == "rejected"
    added = _labels(reviewed_dataset, "im_Parabasal/002")["2"]
    assert (added["class"], added["review_state"]) == ("metaplastic", "corrected")
    assert new_dat.exists(), "the predicted cell became an annotation cell on disk"

    # A fresh gallery (the window reopened) leaves the decided cells out.
    again = _gallery(window, qtbot)
    assert again.model.rowCount() == total - 3
    idle()


def test_the_training_queue_puts_the_least_certain_disagreement_first(
    window, open_in, reviewed_dataset, qtbot, idle
):
    open_in(reviewed_dataset)
    gallery = _gallery(window, qtbot)
    gallery.queue.setCurrentText("Training queue")

    first = gallery.model.candidates[0]
    # 0.55 koilocytotic on a parabasal image: unsure, and against the annotation.
    assert (first.image_key, first.annotation_index) == ("im_Parabasal/001", 2)
    _key(qtbot, gallery, Qt.Key.Key_Space)
    second = gallery.model.candidates[1]
    assert window.current_record().key == second.image_key
    _key(qtbot, gallery, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
    assert window.viewer.selection.cells == (2,)
    assert window.current_record().key == "im_Parabasal/001"
    idle()  # the window's measuring of the images shown ends before it closes


def test_grouped_by_class_each_class_together_and_still_ranked(
    window, open_in, reviewed_dataset, qtbot, idle
):
    open_in(reviewed_dataset)
    gallery = _gallery(window, qtbot)
    gallery.grouped.setChecked(True)

    classes = [c.predicted_class for c in gallery.model.candidates]
    # The koilocytotic group holds the most suspicious cell, so it comes first.
    assert classes[0] == "koilocytotic"
    runs = [name for i, name in enumerate(classes) if i == 0 or classes[i - 1] != name]
    assert len(runs) == len(set(classes)), "each class in one block"
    for name in set(classes):
        chances = [
            c.abnormal_probability
            for c in gallery.model.candidates
            if c.predicted_class == name
        ]
        assert chances == sorted(chances, reverse=True)
    # With no headings between the thumbnails, the count line names the
    # groups in their order, with their sizes.
    groups = ", ".join(f"{name} {classes.count(name)}" for name in runs)
    assert gallery.count.text() == f"{len(classes)} cells to review: {groups}"
    gallery.grouped.setChecked(False)
    assert gallery.count.text() == f"{len(classes)} cells to review"
    idle()


def test_the_selected_images_scope_follows_the_dataset_browser(
    window, open_in, reviewed_dataset, qtbot, idle
):
    open_in(reviewed_dataset)
    gallery = window.review.gallery
    qtbot.waitUntil(lambda: gallery.model.rowCount() > 0, timeout=10000)
    gallery.scope.setCurrentIndex(gallery.scope.findData("selected"))
    chosen = ["im_Parabasal/002", "im_Koilocytotic/002"]
    window.browser.select_images(chosen)
    qtbot.waitUntil(
        lambda: {c.image_key for c in gallery.model.candidates} == set(chosen),
        timeout=5000,
    )
    expected = len(KOILOCYTOTIC[chosen[0]]) + 1 + len(KOILOCYTOTIC[chosen[1]])
    assert gallery.model.rowCount() == expected

    # Walking the queue into the other selected image keeps both selected.
    gallery.go_to(gallery.model.rowCount() - 1)
    gallery.refresh()
    assert {c.image_key for c in gallery.model.candidates} == set(chosen)
    idle()


def test_viewer_keys_triage_the_selected_cell_and_walk_the_queue(
    window, open_in, reviewed_dataset, qtbot, idle
):
    open_in(reviewed_dataset)
    gallery = window.review.gallery
    qtbot.waitUntil(lambda: gallery.model.rowCount() > 0, timeout=10000)
    first, second = gallery.model.candidates[:2]

    view = window.viewer.view
    window.activateWindow()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_BracketRight)  # the next suspicious cell
    assert window.current_record().key == first.image_key
    assert window.viewer.selection.cells == (first.annotation_index,)
    qtbot.keyClick(view, Qt.Key.Key_A)  # the model's class, koilocytotic
    qtbot.wait(1)
    cell = window.dataset.image(first.image_key).cell(first.annotation_index)
    assert (cell.class_name, cell.review_state.value) == ("koilocytotic", "accepted")

    qtbot.keyClick(view, Qt.Key.Key_BracketRight)
    qtbot.waitUntil(lambda: window.current_record().key == second.image_key)
    assert window.viewer.selection.cells == (second.annotation_index,)
    qtbot.keyClick(view, Qt.Key.Key_R)
    qtbot.wait(1)
    cell = window.dataset.image(second.image_key).cell(second.annotation_index)
    assert cell.review_state.value == "rejected"
    # Two decisions: both cells left the queue.
    qtbot.waitUntil(lambda: gallery.model.rowCount() == len(KOILOCYTOTIC_CELLS) - 2)

    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL)  # one undo step per decision
    qtbot.wait(1)
    assert cell.review_state.value == "unreviewed"
    qtbot.waitUntil(lambda: gallery.model.rowCount() == len(KOILOCYTOTIC_CELLS) - 1)
    idle()


def test_a_model_only_cell_becomes_the_viewers_chosen_proposal(
    window, open_in, reviewed_dataset, qtbot, idle
):
    open_in(reviewed_dataset)
    gallery = window.review.gallery
    qtbot.waitUntil(lambda: gallery.model.rowCount() > 0, timeout=10000)
    row = next(
        row
        for row, c in enumerate(gallery.model.candidates)
        if c.annotation_index is None
    )
    predicted = gallery.model.candidates[row]
    gallery.go_to(row)
    proposals = window.editing.proposals
    qtbot.waitUntil(lambda: proposals.selected == predicted.predicted_id, timeout=5000)

    # The viewer's A makes it an annotation cell of the model's class.
    cells = len(window.current_record().cells)
    window.activateWindow()
    window.viewer.view.setFocus()
    qtbot.keyClick(window.viewer.view, Qt.Key.Key_A)
    record = window.current_record()
    assert len(record.cells) == cells + 1
    assert record.cells[-1].class_name == "dyskeratotic"

    # Undone, and chosen again: the viewer's 3 makes it a metaplastic cell.
    qtbot.keyClick(window.viewer.view, Qt.Key.Key_Z, CTRL)
    assert len(record.cells) == cells
    gallery.refresh()
    gallery.go_to(row)
    qtbot.waitUntil(lambda: proposals.selected == predicted.predicted_id, timeout=5000)
    window.viewer.view.setFocus()
    qtbot.keyClick(window.viewer.view, Qt.Key.Key_3)
    assert len(record.cells) == cells + 1
    added = record.cells[-1]
    assert (added.class_name, added.review_state.value) == ("metaplastic", "corrected")
    idle()
