"""Tens of thousands of cells: one layer item draws them, from overlay tiles made
in worker threads when zoomed out and as vectors when zoomed in; the window
keeps answering while the tiles are made, and a click still picks one cell."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QElapsedTimer, QPointF, QTimer

from engine.annotations import Cell

CELLS = 20_000


def _many_cells(side: float) -> list[Cell]:
    rng = np.random.default_rng(5)
    angles = np.linspace(0, 2 * math.pi, 24, endpoint=False)
    centres = rng.random((CELLS, 2)) * (side - 40) + 20
    classes = ["parabasal", "koilocytotic", "dyskeratotic"]
    return [
        Cell(
            index + 1,
            np.column_stack([x + 7 * np.cos(angles), y + 5 * np.sin(angles)]),
            np.column_stack([x + 2 * np.cos(angles), y + 2 * np.sin(angles)]),
            classes[index % 3],
        )
        for index, (x, y) in enumerate(centres)
    ]


def test_twenty_thousand_cells_draw_pick_and_leave_the_window_answering(
    window, open_in, idle, qtbot, small_slide
):
    open_in(small_slide)
    viewer = window.viewer
    record = viewer.record
    record.cells = _many_cells(2048)
    clock = QElapsedTimer()
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    clock.start()
    timer.start()

    viewer.show_annotations()  # indexed in a worker: this many cells
    qtbot.waitUntil(lambda: viewer.layers["annotations"].cell_count() == CELLS)
    viewer.view.fit()
    viewer.view.viewport().repaint()
    layer = viewer.layers["annotations"]
    assert layer.last_mode == "tiles"
    idle()
    timer.stop()

    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
    assert ticks and max(gaps, default=0) < 500
    assert layer.tiles.cached_count() > 0  # the overlay was drawn by the workers

    x, y = record.cells[1234].centroid
    viewer.select_at(QPointF(x, y))
    assert viewer.selection.cells == (1235,)
    viewer.view.set_zoom(4.0)
    viewer.view.centre_on(QPointF(x, y))
    viewer.view.viewport().repaint()
    assert layer.last_mode == "vector"
    assert layer.selected_rows.tolist() == [1234]
