"""Model-assisted outlines: a click inside a cell nobody outlined shows the run's
outline of it (the run the test wrote, see conftest.py), or else the U-Net
mask's region around the click; Enter adds it, Esc drops it."""

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


def test_without_an_instance_the_unet_region_is_proposed(
    idle, window, open_in, reviewed_dataset, qtbot, image_size
):
    import cv2
    import numpy as np

    from engine.predictions import PredictionStore
    from tests.gui.review.conftest import RUN

    key, centre, radius = "im_Parabasal/002", (250, 60), 20
    width, height = image_size
    cells, nuclei = (np.zeros((height, width), np.float32) for _ in range(2))
    cv2.circle(cells, centre, radius, 1.0, -1)
    cv2.circle(nuclei, centre, 6, 1.0, -1)
    mask = np.stack([cells, nuclei], axis=-1)
    PredictionStore.for_dataset(reviewed_dataset).save_mask(RUN, key, mask)
    tool = _assist(window, open_in, reviewed_dataset, key)

    click_image(qtbot, window, centre[0] + 8, centre[1] + 3)
    assert tool.proposal is not None and tool.proposal.source == "unet"
    assert tool.proposal.nucleus is not None
    _key(qtbot, window, Qt.Key.Key_Return)
    added = window.viewer.record.cells[-1]
    assert added.origin is Origin.MODEL
    assert added.class_name == "parabasal", "no class from a mask: the folder's"
    assert np.allclose(added.cytoplasm.mean(axis=0), centre, atol=1.5)
    span = added.cytoplasm.max(axis=0) - added.cytoplasm.min(axis=0)
    assert np.allclose(span, 2 * radius, atol=2)
    idle()
