"""A whole correction session driven with the mouse and keys: move a vertex, draw a
cell and its nucleus, delete a cell, reclassify one with a number key, accept and
reject the model's proposals; undo all of it, redo all of it, save, and find on
disk exactly the changed files changed, the rest byte for byte as they were, and
the old files in the backups."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import Qt

from engine.annotations import Dataset, Origin, ReviewState
from engine.review import load_decisions

IMAGE_KEY = "im_Parabasal/001"
FOLDER = "im_Parabasal/im_Parabasal"
CTRL = Qt.KeyboardModifier.ControlModifier
PIXEL = 0.5  # a mouse position lands within half an image pixel when zoomed in


def _cell_state(image) -> list[tuple]:
    """Everything a save writes about an image's cells, to compare states."""
    return [
        (
            cell.index,
            cell.cytoplasm.round(3).tolist(),
            None if cell.nucleus is None else cell.nucleus.round(3).tolist(),
            cell.class_name,
            cell.origin,
            cell.review_state,
        )
        for cell in sorted(image.cells, key=lambda cell: cell.index)
    ]


def _shown(action) -> str:
    """An action's text as the menu shows it (without the & of its mnemonic)."""
    return action.text().replace("&", "")


def _instances_shown(window) -> list[int]:
    outlines = window.viewer.layers["instances"].outlines
    return [] if outlines is None else sorted(outlines.cell_ids.tolist())


def test_a_correction_session_undone_redone_and_saved(
    window, open_in, hands, qtbot, proposed_dataset, disk_files, proposals
):
    root = proposed_dataset
    before = disk_files(root)
    open_in(root)
    record = window.viewer.record
    assert record.key == IMAGE_KEY
    opened = _cell_state(record)
    qtbot.waitUntil(lambda: _instances_shown(window) == [1, 2])
    editing = window.editing
    stack = editing.session.stack()

    # Move vertex 0 of cell 1 (at the cell's right, (90, 60)) by dragging it.
    hands.click(60, 60)
    assert window.viewer.selection.cells == (1,)
    hands.drag((90, 60), (100, 62))
    assert np.allclose(record.cell(1).cytoplasm[0], [100, 62], atol=PIXEL)
    assert _shown(editing.menu.undo) == "Undo Move vertex of cell 1"
    assert window.isWindowModified()
    assert window.browser.mark(IMAGE_KEY) == "\u25cf"

    # Draw a new cell, then its nucleus; it is selected, of the folder's class.
    hands.key(Qt.Key.Key_D)
    assert editing.tool is editing.tools["draw"]
    hands.draw([(230, 30), (300, 30), (300, 100), (230, 100)])
    hands.draw([(255, 55), (275, 55), (275, 75), (255, 75)], close_with="double")
    drawn = record.cell(4)
    square = [[230, 30], [300, 30], [300, 100], [230, 100]]
    assert np.allclose(drawn.cytoplasm, square, atol=PIXEL)
    inner = [[255, 55], [275, 55], [275, 75], [255, 75]]
    assert np.allclose(drawn.nucleus, inner, atol=PIXEL)
    assert drawn.class_name == "parabasal" and drawn.origin is Origin.ANNOTATION
    assert _shown(editing.menu.undo) == "Undo Draw the nucleus of cell 4"

    # Delete cell 2 with the Delete key.
    hands.key(Qt.Key.Key_E)
    hands.click(150, 90)
    assert window.viewer.selection.cells == (2,)
    hands.key(Qt.Key.Key_Delete)
    assert 2 not in [cell.index for cell in record.cells]
    assert window.viewer.selection.cells == ()

    # Reclassify cell 3 with the number key 4 (koilocytotic).
    hands.click(250, 160)
    hands.key(Qt.Key.Key_4)
    assert record.cell(3).class_name == "koilocytotic"
    assert record.cell(3).review_state is ReviewState.CORRECTED
    assert _shown(editing.menu.undo) == "Undo Set the class of cell 3 to Koilocytotic"

    # Accept proposal 1: it becomes cell 5, the model's, accepted, of its class.
    hands.click(70, 180)
    assert editing.proposals.selected == 1
    hands.key(Qt.Key.Key_A)
    accepted = record.cell(5)
    assert accepted.origin is Origin.MODEL
    assert accepted.review_state is ReviewState.ACCEPTED
    assert accepted.class_name == "dyskeratotic"
    assert accepted.nucleus is not None
    assert _instances_shown(window) == [2]

    # Reject proposal 2: hidden, and the run remembers it.
    hands.click(180, 205)
    assert editing.proposals.selected == 2
    hands.key(Qt.Key.Key_R)
    assert _instances_shown(window) == []
    store = window.prediction_store()
    decided = load_decisions(store, "run-1", IMAGE_KEY)
    assert decided[2].review_state is ReviewState.REJECTED
    edited = _cell_state(record)
    assert stack.count() == 7

    # Undo everything, back to the opening of the image.
    for _ in range(7):
        hands.key(Qt.Key.Key_Z, CTRL)
    assert _cell_state(record) == opened
    assert not editing.menu.undo.isEnabled()
    assert load_decisions(store, "run-1", IMAGE_KEY) == {}
    assert _instances_shown(window) == [1, 2]
    assert not window.isWindowModified()
    assert window.browser.mark(IMAGE_KEY) == ""

    # Redo everything.
    for _ in range(7):
        hands.key(Qt.Key.Key_Y, CTRL)
    assert _cell_state(record) == edited
    assert _instances_shown(window) == []
    assert window.isWindowModified()

    # Save, and read what is on disk.
    hands.key(Qt.Key.Key_S, CTRL)
    assert not window.isWindowModified()
    assert window.browser.mark(IMAGE_KEY) != "\u25cf"
    assert "Saved 1 image" in window.status.currentMessage()
    after = disk_files(root)
    changed = {name for name in before if after.get(name) != before[name]}
    assert changed == {
        f"{FOLDER}/001_cyt01.dat",
        f"{FOLDER}/001_cyt02.dat",
        f"{FOLDER}/001_nuc02.dat",
    }
    assert f"{FOLDER}/001_cyt02.dat" not in after  # deleted cells' files go
    assert set(after) - set(before) == {
        f"{FOLDER}/001_cyt04.dat",
        f"{FOLDER}/001_nuc04.dat",
        f"{FOLDER}/001_cyt05.dat",
        f"{FOLDER}/001_nuc05.dat",
    }
    backups = root / ".cervix" / "backups"
    backed_up = {
        path.relative_to(next(backups.iterdir())).as_posix(): path.read_bytes()
        for path in backups.rglob("*.dat")
    }
    assert backed_up == {name: before[name] for name in changed}
    labels = json.loads(
        (root / ".cervix" / "labels" / f"{IMAGE_KEY}.json").read_text(encoding="utf-8")
    )
    assert labels["cells"]["3"]["class"] == "koilocytotic"
    assert labels["cells"]["3"]["review_state"] == "corrected"
    assert labels["cells"]["5"]["origin"] == "model"
    assert labels["cells"]["5"]["review_state"] == "accepted"
    assert all(labels["cells"][k]["history"][0]["who"] for k in ("3", "5"))

    reopened = Dataset.open(root).image(IMAGE_KEY)
    assert _cell_state(reopened) == edited
    assert np.allclose(reopened.cell(4).cytoplasm, square, atol=PIXEL)
