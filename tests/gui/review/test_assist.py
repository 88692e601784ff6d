"""Model-assisted outlines: a click inside a cell nobody outlined shows the run's
outline of it (the run the test wrote, see conftest.py); Enter adds it, Esc
drops it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from cervix_gui.review.assist_tool import AssistTool
from engine.annotations import Origin
from tests.gui.review.conftest import UNOUTLINED, click_image


def _assist(window, open_in, root, key):
    open_in(root)
    window.show_image(key)
    tool = AssistTool(window)
    window.viewer.set_tool(tool)
    return tool


def _key(qtbot, window, key) -> None:
    window.activateWindow()
    window.viewer.view.setFocus()
    qtbot.keyClick(window.viewer.view, key)
    qtbot.wait(1)


def test_a_click_and_enter_add_the_models_outline(
    idle, window, open_in, reviewed_dataset, qtbot
):
    key, (cx, cy, _radius), _probs = UNOUTLINED
    new_dat = reviewed_dataset / "im_Parabasal" / "im_Parabasal" / "002_cyt02.dat"
    tool = _assist(window, open_in, reviewed_dataset, key)
    cells_before = len(window.viewer.record.cells)

    click_image(qtbot, window, 100, 100)  # inside annotated cell 1: nothing
    assert tool.proposal is None
    click_image(qtbot, window, cx + 3, cy - 2)
    assert tool.proposal is not None
    assert abs(tool.proposal.cytoplasm[:, 0].mean() - cx) < 1.0

    _key(qtbot, window, Qt.Key.Key_Return)
    record = window.viewer.record
    assert len(record.cells) == cells_before + 1
    added = record.cells[-1]
    assert (added.class_name, added.origin) == ("dyskeratotic", Origin.MODEL)
    assert window.viewer.selection.cells == (added.index,)

    assert window.editing.session.save_all().ok
    assert new_dat.exists()
    idle()  # the window's measuring ends before it closes


def test_escape_drops_the_proposal(idle, window, open_in, reviewed_dataset, qtbot):
    key, (cx, cy, _radius), _probs = UNOUTLINED
    tool = _assist(window, open_in, reviewed_dataset, key)
    cells_before = len(window.viewer.record.cells)
    click_image(qtbot, window, cx, cy)
    assert tool.proposal is not None
    _key(qtbot, window, Qt.Key.Key_Escape)
    assert tool.proposal is None
    _key(qtbot, window, Qt.Key.Key_Return)
    assert len(window.viewer.record.cells) == cells_before
    assert not window.editing.session.has_unsaved()
    idle()  # the window's measuring ends before it closes
