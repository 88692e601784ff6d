"""Undo has no small limit: thousands of edits undo back to the image as it was
opened and redo to the last one, and the History dock lists every step by name."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from engine.annotations.edit_tools import outline_edit

STEPS = 2000


def test_thousands_of_edits_undo_to_the_opening_and_redo(
    window, open_in, hands, small_dataset
):
    open_in(small_dataset)
    record = window.viewer.record
    session = window.editing.session
    opened = [cell.cytoplasm.copy() for cell in record.cells]
    for step in range(STEPS):
        cell = record.cells[step % len(record.cells)]
        outline = cell.cytoplasm.copy()
        outline[step % len(outline)] += (0.25, -0.25)
        assert session.do(
            outline_edit(record, cell.index, "cytoplasm", outline), f"Step {step}"
        )
    edited = [cell.cytoplasm.copy() for cell in record.cells]
    stack = session.stack()
    assert stack.count() == STEPS

    stack.setIndex(0)
    assert all(map(np.array_equal, opened, (c.cytoplasm for c in record.cells)))
    assert not window.isWindowModified()
    stack.setIndex(STEPS)
    assert all(map(np.array_equal, edited, (c.cytoplasm for c in record.cells)))

    # The history lists every step; clicking the first entry goes back to it.
    # It opens as a tab beside the cell inspector, in front.
    window.editing.menu.show_history.trigger()
    dock = window.editing.menu.history_dock
    assert window.inspector_dock in window.tabifiedDockWidgets(dock)
    hands.qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty())
    assert window.inspector_dock.visibleRegion().isEmpty()
    history = window.editing.menu.history
    model = history.model()
    assert model.rowCount() == STEPS + 1  # "Opened", then each edit
    assert model.index(0, 0).data() == "Opened"
    assert model.index(STEPS, 0).data() == f"Step {STEPS - 1}"
    hands.qtbot.mouseClick(
        history.viewport(),
        Qt.MouseButton.LeftButton,
        pos=history.visualRect(model.index(0, 0)).center(),
    )
    assert stack.index() == 0
    assert all(map(np.array_equal, opened, (c.cytoplasm for c in record.cells)))
