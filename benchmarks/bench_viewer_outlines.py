"""How the viewer copes with 100,000 cell outlines: loading them into the outline
layer, the frame time of pan and zoom at several zooms, and picking a cell.

Draws ellipse-like cells with wobbly outlines (48 vertices, nucleus of 24) over
a square image, loads them into the real OutlineLayer in a real ZoomableView
(offscreen, 1920x1080), and renders the view to a QImage again and again while
panning. At each zoom the first frames ask worker threads for overlay tiles;
"cold" is the slowest of them, "steady" the frames once the tiles are there.
Run: `QT_QPA_PLATFORM=offscreen python benchmarks/bench_viewer_outlines.py`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF, QRectF  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsScene  # noqa: E402

import cervix_gui  # noqa: E402, F401  (its PySide6 work-around comes first)
from cervix_gui.palette import ClassPalette  # noqa: E402
from cervix_gui.viewer.layer_stack import annotation_style  # noqa: E402
from cervix_gui.viewer.outline_layer import OutlineLayer  # noqa: E402
from cervix_gui.viewer.tiles import tile_pool  # noqa: E402
from cervix_gui.viewer.zoomable_view import ZoomableView  # noqa: E402
from engine.annotations import Cell, ClassScheme  # noqa: E402
from engine.images.cell_outlines import CellOutlines  # noqa: E402

VIEW_SIZE = (1920, 1080)
CLASSES = [c.name for c in ClassScheme().classes]


def make_cells(count: int, side: float, seed: int = 0) -> list[Cell]:
    """`count` cells spread over a `side` x `side` image, overlapping a little."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    nucleus_angles = angles[::2]
    centres = rng.random((count, 2)) * (side - 200) + 100
    radii = rng.uniform(25, 60, count)
    phases = rng.uniform(0, 2 * np.pi, count)
    classes = rng.integers(0, len(CLASSES), count)
    cells = []
    for index in range(count):
        cx, cy = centres[index]
        radius = radii[index] * (1 + 0.12 * np.sin(3 * angles + phases[index]))
        cytoplasm = np.column_stack(
            [cx + radius * np.cos(angles), cy + 0.8 * radius * np.sin(angles)]
        )
        small = radii[index] / 4
        nucleus = np.column_stack(
            [cx + small * np.cos(nucleus_angles), cy + small * np.sin(nucleus_angles)]
        )
        cells.append(Cell(index + 1, cytoplasm, nucleus, CLASSES[classes[index]]))
    return cells


def _frame(view, canvas, x, y) -> float:
    """Move the view's centre to (x, y) and render one frame; its time in ms."""
    view.centre_on(QPointF(x, y))
    painter = QPainter(canvas)
    start = time.perf_counter()
    view.render(painter)
    elapsed = (time.perf_counter() - start) * 1000
    painter.end()
    return elapsed


def render_frames(app, view, zoom, start, frames, canvas):
    """Pan along a line at `zoom`, 150 x 80 screen pixels a frame, as a drag does.

    Returns (cold, steady) frame times in ms: cold on the first pass, while the
    worker threads make the tiles that come into view; steady on the way back
    over the same path, with its tiles made.
    """
    view.set_zoom(zoom)
    step = np.array([150.0, 80.0]) / view.zoom()
    path = [start + step * number for number in range(frames)]
    cold = []
    for x, y in path:
        cold.append(_frame(view, canvas, x, y))
        app.processEvents()  # deliver the tiles made meanwhile
    for x, y in path:  # let every tile along the path arrive
        _frame(view, canvas, x, y)
        tile_pool().waitForDone()
        app.processEvents()
    steady = [_frame(view, canvas, x, y) for x, y in reversed(path)]
    return cold, steady


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--side", type=float, default=50_000.0, help="image side, px")
    parser.add_argument("--frames", type=int, default=20, help="frames per zoom")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])

    start = time.perf_counter()
    cells = make_cells(args.cells, args.side)
    made = time.perf_counter() - start
    palette = ClassPalette(ClassScheme())
    scene = QGraphicsScene()
    scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
    layer = OutlineLayer("annotations", "Annotations", 10.0)
    scene.addItem(layer)
    extent = QRectF(0, 0, args.side, args.side)

    start = time.perf_counter()
    outlines = CellOutlines.from_cells(cells, CLASSES)
    outlines.prepare()
    layer.set_outlines(outlines, annotation_style(outlines, palette), extent)
    loaded = time.perf_counter() - start

    view = ZoomableView(scene)
    view.resize(*VIEW_SIZE)
    view.show()
    view.set_content(extent)
    app.processEvents()
    canvas = QImage(*VIEW_SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    rng = np.random.default_rng(1)
    start = np.array([args.side * 0.3, args.side * 0.3])

    print(f"{args.cells} cell outlines over {args.side:.0f} x {args.side:.0f} px")
    print(f"  making the Cell objects (not the viewer's work): {made:.2f} s")
    print(f"  loading them into the outline layer (index + levels): {loaded:.2f} s")
    print()
    print(
        f"{'zoom':>7} {'cells in view':>14} {'mode':>7} {'cold median':>12} "
        f"{'cold max':>9} {'steady median':>14} {'steady max':>11}   (ms a frame)"
    )
    fit = min(VIEW_SIZE) / args.side
    for zoom in (fit, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0):
        cold, steady = render_frames(app, view, zoom, start, args.frames, canvas)
        visible = view.visible_rect()
        in_view = len(
            outlines.cytoplasm.query(
                visible.left(), visible.top(), visible.right(), visible.bottom()
            )
        )
        print(
            f"{zoom:>7.3f} {in_view:>14} {layer.last_mode:>7} "
            f"{statistics.median(cold):>12.1f} {max(cold):>9.1f} "
            f"{statistics.median(steady):>14.1f} {max(steady):>11.1f}"
        )

    picks = rng.choice(len(cells), 1000, replace=False)
    timings = []
    for index in picks:
        x, y = outlines.cytoplasm.centroids[index]
        start = time.perf_counter()
        outlines.row_at(x, y)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    print()
    median = statistics.median(timings)
    print(
        f"picking a cell by a click (1000 clicks): median {median:.2f} ms, "
        f"max {timings[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
