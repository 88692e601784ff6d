"""The viewer: the selected image's cells drawn in their class colours, pan,
zoom around the cursor, fit and 1:1, and the status bar that follows them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from cervix_gui.palette import ClassPalette


def _wheel(view, position: QPoint, notches: int) -> None:
    viewport = view.viewport()
    event = QWheelEvent(
        QPointF(position),
        QPointF(viewport.mapToGlobal(position)),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def _mouse(view, kind, position: QPoint, buttons) -> None:
    viewport = view.viewport()
    button = (
        Qt.MouseButton.NoButton
        if kind == QEvent.Type.MouseMove
        else Qt.MouseButton.LeftButton
    )
    event = QMouseEvent(
        kind,
        QPointF(position),
        QPointF(viewport.mapToGlobal(position)),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def test_selected_image_shows_exactly_its_cells_in_class_colours(
    window, open_in, idle, drawn, small_dataset, small_layout, image_size
):
    open_in(small_dataset)
    window.browser.select_image("im_Koilocytotic/002")
    idle()

    record = window.dataset.image("im_Koilocytotic/002")
    palette = ClassPalette(window.dataset.scheme)
    outlines = drawn(window)
    expected = small_layout["im_Koilocytotic"]["002"]
    assert len(outlines) == len(expected)
    for outline, cell, (cx, cy, radius) in zip(
        outlines, record.cells, expected, strict=True
    ):
        assert outline.cell_index == cell.index
        assert outline.colour == palette.colour("koilocytotic")
        assert outline.nucleus_colour == palette.nucleus_colour("koilocytotic")
        assert outline.nucleus_colour != outline.colour
        assert outline.has_nucleus
        x_min, y_min, x_max, y_max = outline.bounds
        assert abs(x_min - (cx - radius)) < 0.02
        assert abs(x_max - (cx + radius)) < 0.02
        assert abs(y_min - (cy - 0.8 * radius)) < 0.02
        assert (x_min, y_min, x_max, y_max) == pytest.approx(cell.bounds)
    assert window.viewer.has_pixels
    assert window.viewer.source.size == image_size


def test_switching_images_replaces_the_outlines(window, drawn, open_in, small_dataset):
    open_in(small_dataset)
    window.browser.select_image("im_Parabasal/001")
    assert len(drawn(window)) == 3
    window.browser.select_image("im_Parabasal/002")

    assert [outline.cell_index for outline in drawn(window)] == [1]
    assert window.viewer.layers["annotations"].cell_count() == 1


def test_status_bar_shows_image_size_cells_and_zoom(window, open_in, small_dataset):
    open_in(small_dataset)
    window.browser.select_image("im_Parabasal/001")

    status = window.status
    assert status.image_label.text() == "320 \u00d7 240 px"
    assert status.cells_label.text() == "3 cells"
    zoom = window.viewer.view.zoom()
    assert status.zoom_label.text() == f"Zoom {zoom * 100:.0f}%"
    assert window.legend._count_labels["parabasal"].text() == "3"
    assert window.legend._count_labels["koilocytotic"].text() == "0"


def test_cursor_position_is_shown_in_image_pixels(window, open_in, small_dataset):
    open_in(small_dataset)
    view = window.viewer.view
    target = view.mapFromScene(QPointF(100.5, 60.5))
    _mouse(view, QEvent.Type.MouseMove, target, Qt.MouseButton.NoButton)
    assert window.status.cursor_label.text() == "x 100, y 60"

    outside = view.mapFromScene(QPointF(-20, -20))
    _mouse(view, QEvent.Type.MouseMove, outside, Qt.MouseButton.NoButton)
    assert window.status.cursor_label.text() == "\u2014"


def test_wheel_zooms_around_the_cursor(window, open_in, small_dataset):
    open_in(small_dataset)
    view = window.viewer.view
    cursor = view.mapFromScene(QPointF(250, 160))  # a cell near the corner
    before = view.zoom()
    under_cursor = view.mapToScene(cursor)

    _wheel(view, cursor, 2)

    assert view.zoom() > before * 1.5
    after = view.mapToScene(cursor)
    tolerance = 1.5 / view.zoom()  # a screen pixel or so, in image pixels
    assert abs(after.x() - under_cursor.x()) < tolerance
    assert abs(after.y() - under_cursor.y()) < tolerance
    assert window.status.zoom_label.text() == f"Zoom {view.zoom() * 100:.0f}%"

    _wheel(view, cursor, -1)
    assert view.zoom() < before * 1.5 * 1.25


def test_zoom_out_stops_at_a_quarter_of_the_fitted_size(window, open_in, small_dataset):
    open_in(small_dataset)
    view = window.viewer.view
    fitted = view.zoom()
    _wheel(view, view.viewport().rect().center(), -40)
    assert abs(view.zoom() - min(fitted / 4, 1.0)) < 0.02 * fitted


def test_dragging_pans_the_image(window, open_in, small_dataset):
    open_in(small_dataset)
    view = window.viewer.view
    view.actual_size()
    _wheel(view, view.viewport().rect().center(), 6)
    centre = view.viewport().rect().center()
    before = view.mapToScene(centre)

    left = Qt.MouseButton.LeftButton
    _mouse(view, QEvent.Type.MouseButtonPress, centre, left)
    _mouse(view, QEvent.Type.MouseMove, centre + QPoint(40, 20), left)
    _mouse(view, QEvent.Type.MouseMove, centre + QPoint(80, 40), left)
    _mouse(view, QEvent.Type.MouseButtonRelease, centre + QPoint(80, 40), left)

    after = view.mapToScene(centre)
    # The image follows the hand: what was left of the centre is now under it.
    assert after.x() < before.x() - 40 / view.zoom() and after.y() < before.y()


def test_fit_shows_the_whole_image_and_one_to_one_shows_pixels(
    window, open_in, small_dataset, image_size
):
    open_in(small_dataset)
    view = window.viewer.view

    centre = view.mapToScene(view.viewport().rect().center())
    window.actual_size_action.trigger()
    assert view.zoom() == 1.0
    assert window.status.zoom_label.text() == "Zoom 100%"
    # 1:1 keeps the middle of the view where it was.
    kept = view.mapToScene(view.viewport().rect().center())
    assert abs(kept.x() - centre.x()) <= 2 and abs(kept.y() - centre.y()) <= 2

    window.fit_action.trigger()
    viewport = view.viewport().rect()
    shown = view.mapFromScene(view.content()).boundingRect()
    assert viewport.contains(shown.adjusted(1, 1, -1, -1))
    fitted = min(viewport.width() / image_size[0], viewport.height() / image_size[1])
    assert fitted * 0.97 <= view.zoom() <= fitted
    assert view.is_fitting()


def test_keys_fit_and_one_to_one(window, open_in, small_dataset, qtbot):
    open_in(small_dataset)
    view = window.viewer.view
    window.activateWindow()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert view.zoom() == 1.0
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.zoom() != 1.0 and view.is_fitting()


def test_fitted_view_follows_the_window_size(window, open_in, small_dataset, qtbot):
    open_in(small_dataset)
    view = window.viewer.view
    before = view.zoom()
    window.resize(window.width() + 300, window.height() + 300)
    qtbot.waitUntil(lambda: view.zoom() > before)


def test_an_image_that_cannot_be_read_is_reported_not_fatal(
    window, open_in, idle, drawn, small_dataset
):
    open_in(small_dataset)
    broken = small_dataset / "im_Metaplastic" / "im_Metaplastic" / "001.bmp"
    broken.write_bytes(b"BM this is no longer a bitmap")

    window.browser.select_image("im_Metaplastic/001")
    idle()

    viewer = window.viewer
    assert not viewer.has_pixels
    assert not viewer.message.isHidden()
    assert "001.bmp" in viewer.message.text()
    assert "001.bmp" in window.status.currentMessage()
    # The outlines are still there to review.
    assert len(drawn(window)) == 2

    window.browser.select_image("im_Parabasal/001")
    idle()
    assert viewer.has_pixels and viewer.message.isHidden()
