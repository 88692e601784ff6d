"""Selecting cells: a click in the image, a row of the measurement table or a
point of the scatter plot selects the cell everywhere, and the inspector and
table show its class, origin, review state and measurements."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, QPointF, Qt

from engine.images import open_image
from engine.metrics.measurements import measure_cell


def _click_image(
    window, qtbot, x: float, y: float, modifier=Qt.KeyboardModifier.NoModifier
):
    view = window.viewer.view
    position = view.mapFromScene(QPointF(x, y))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, position)


def test_clicking_a_cell_selects_it_and_the_inspector_describes_it(
    window, open_in, qtbot, small_dataset, small_layout
):
    open_in(small_dataset)
    cx, cy, radius = small_layout["im_Parabasal"]["001"][1]

    _click_image(window, qtbot, cx + radius / 2, cy)

    record = window.viewer.record
    assert window.viewer.selection.cells == (2,)
    assert window.viewer.layers["annotations"].selected_rows.tolist() == [1]
    inspector = window.inspector
    assert inspector.value("cell") == "2 in im_Parabasal/001"
    assert "Parabasal" in inspector.value("class")
    assert inspector.value("origin") == "annotation"
    assert inspector.value("review") == "unreviewed"
    with open_image(record.path) as source:
        pixels = source.read_region(0, 0, 0, *source.size)
    expected = measure_cell(record.cell(2), pixels)
    assert inspector.value("area") == f"{expected.area:,.1f} px\u00b2"
    assert inspector.value("nc_ratio") == f"{expected.nc_ratio:,.3f}"
    assert inspector.value("intensity") == f"{expected.mean_nuclear_intensity:,.1f}"
    selected = window.measurements.table.selectionModel().selectedRows()
    assert [index.data() for index in selected] == ["2"]


def test_clicking_beside_every_cell_clears_and_ctrl_click_adds(
    window, open_in, qtbot, small_dataset, small_layout
):
    open_in(small_dataset)
    cells = small_layout["im_Parabasal"]["001"]
    _click_image(window, qtbot, cells[0][0], cells[0][1])
    _click_image(
        window, qtbot, cells[2][0], cells[2][1], Qt.KeyboardModifier.ControlModifier
    )
    assert window.viewer.selection.cells == (1, 3)

    _click_image(window, qtbot, 315, 5)  # a corner without cells

    assert window.viewer.selection.cells == ()
    assert window.inspector.value("class") == "\u2014"


def test_the_table_lists_every_cell_with_its_measurements_and_sorts(
    window, open_in, small_dataset
):
    open_in(small_dataset)
    record = window.viewer.record
    table = window.measurements.table
    proxy = window.measurements.proxy
    assert proxy.rowCount() == len(record.cells) == 3
    headers = [
        proxy.headerData(c, Qt.Orientation.Horizontal)
        for c in range(proxy.columnCount())
    ]
    assert headers[:4] == ["Cell", "Class", "Area (px\u00b2)", "Perimeter (px)"]

    table.sortByColumn(2, Qt.SortOrder.DescendingOrder)

    areas = [float(proxy.index(row, 2).data().replace(",", "")) for row in range(3)]
    assert areas == sorted(areas, reverse=True)
    biggest = int(proxy.index(0, 0).data())
    assert biggest == 2  # radius 40 of 30, 40 and 35


def test_selecting_a_table_row_selects_the_cell_in_the_view(
    window, open_in, small_dataset
):
    open_in(small_dataset)
    proxy = window.measurements.proxy
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data() == "3")

    window.measurements.table.selectionModel().select(
        proxy.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect
        | QItemSelectionModel.SelectionFlag.Rows,
    )

    assert window.viewer.selection.cells == (3,)
    assert window.viewer.layers["annotations"].selected_rows.tolist() == [2]
    assert window.inspector.value("cell").startswith("3 ")


def test_clicking_a_scatter_point_selects_and_centres_that_cell(
    window, open_in, qtbot, small_dataset, small_layout
):
    open_in(small_dataset)
    view = window.viewer.view
    view.set_zoom(4.0)
    view.centre_on(QPointF(0, 0))
    scatter = window.measurements.scatter
    area, nucleus_area = scatter.position_of(3)
    plot_view = scatter.getPlotItem().getViewBox()
    scene_point = plot_view.mapViewToScene(QPointF(area, nucleus_area))
    position = scatter.mapFromScene(scene_point)

    qtbot.mouseClick(
        scatter.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(position)
    )

    assert window.viewer.selection.cells == (3,)
    cx, cy, _ = small_layout["im_Parabasal"]["001"][2]
    centre = view.mapToScene(view.viewport().rect().center())
    assert centre.x() == pytest.approx(cx, abs=3)
    assert centre.y() == pytest.approx(cy, abs=3)
    assert len(scatter.selected.data) == 1
