"""The review docks in the main window: filled when a dataset opens, and the
assisted-outline tool one key away (the run is the test's, see conftest.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from cervix_gui.review.install import WindowReview, install_review
from tests.gui.review.conftest import KOILOCYTOTIC


def test_opening_a_dataset_fills_the_review_docks(
    idle, window, open_in, reviewed_dataset, qtbot
):
    review = getattr(window, "review", None)
    if review is None:  # a window without the hook gets the docks here
        review = install_review(window)
    assert isinstance(review, WindowReview)
    open_in(reviewed_dataset)
    cells = sum(len(chances) for chances in KOILOCYTOTIC.values()) + 1
    qtbot.waitUntil(lambda: review.gallery.model.rowCount() == cells, timeout=5000)
    assert f"{cells} cells" in review.summary.totals.text()
    assert review.gallery_dock.isVisible()

    window.activateWindow()
    window.viewer.view.setFocus()
    qtbot.keyClick(window.viewer.view, Qt.Key.Key_O)
    assert window.viewer.view.tool is review.assist
    titles = [action.text() for action in window.menuBar().actions()]
    assert "&Review" in titles
    idle()  # the window's measuring ends before it closes
