"""Opening a whole slide in the real window (offscreen): how long until the first
view is drawn, and whether memory stays bounded by the caches while panning
and zooming over all of it.

Uses a slide given with --slide, or writes a synthetic one with
`engine.images.synth_slide` (a 50,000 x 50,000 slide takes minutes to write on
two cores; --size picks a smaller one). Times: "first pixels" is when the
first tile is on screen, "view complete" when every visible tile is at the
level the zoom needs; "cells drawn" when the slide's cells (from its
.cells.geojson) are on screen too, "cells measured" when the measurement table
is full. Memory is the process's resident set.
Run: `QT_QPA_PLATFORM=offscreen python benchmarks/bench_viewer_slide.py`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import cervix_gui  # noqa: E402, F401  (its PySide6 work-around comes first)
from cervix_gui.main_window import MainWindow  # noqa: E402
from cervix_gui.viewer import image_viewer, tiles  # noqa: E402
from engine.images.synth_slide import write_synthetic_slide  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
WINDOW_SIZE = (1920, 1080)


def rss_mb() -> float:
    """The resident set of this process now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 1e6


def wait(app, condition, timeout: float = 600.0) -> float:
    """Process events until `condition()`; seconds waited."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.002)
    return time.perf_counter() - start


def measure(app, slide: Path, frames: int) -> None:
    window = MainWindow()
    window.resize(*WINDOW_SIZE)
    window.show()
    app.processEvents()
    baseline = rss_mb()
    viewer = window.viewer
    image = viewer.layers["image"]

    start = time.perf_counter()
    window.open_path(slide)
    wait(app, lambda: image.tiles.cached_count() > 0)
    first_pixels = time.perf_counter() - start
    wait(app, lambda: not image.busy())
    complete = time.perf_counter() - start
    annotations = viewer.layers["annotations"]
    wait(app, lambda: annotations.cell_count() > 0 and not annotations.busy())
    cells_drawn = time.perf_counter() - start
    wait(app, lambda: not window.busy())
    measured = time.perf_counter() - start
    opened = rss_mb()

    # Pan and zoom over the whole slide: every move asks for new tiles.
    rng = np.random.default_rng(0)
    width, height = viewer.source.size
    view = viewer.view
    peak = opened
    frame_times = []
    for _ in range(frames):
        view.set_zoom(float(rng.choice([0.05, 0.25, 0.5, 1.0, 2.0])))
        view.centre_on(QPointF(rng.random() * width, rng.random() * height))
        begin = time.perf_counter()
        view.viewport().repaint()
        frame_times.append((time.perf_counter() - begin) * 1000)
        wait(app, lambda: not image.busy(), timeout=120)
        peak = max(peak, rss_mb())
    stats = viewer.cache.stats()
    cells = len(viewer.record.cells)

    print(
        f"{slide.name}: {width} x {height} px, {viewer.source.level_count} levels, "
        f"{cells} cells"
    )
    print(
        f"{'first pixels s':>15} {'view complete s':>16} {'cells drawn s':>14} "
        f"{'cells measured s':>17}"
    )
    print(
        f"{first_pixels:>15.2f} {complete:>16.2f} {cells_drawn:>14.2f} "
        f"{measured:>17.2f}"
    )
    print()
    budget = (image_viewer.TILE_CACHE_BYTES + 3 * tiles.DEFAULT_IMAGE_BUDGET) / 1e6
    print(
        f"{'RSS before MB':>14} {'after open MB':>14} {'peak MB':>8} "
        f"{'tiles read':>11} {'cache MB':>9} {'cache budget MB':>16} "
        f"{'all budgets MB':>15}"
    )
    print(
        f"{baseline:>14.0f} {opened:>14.0f} {peak:>8.0f} {stats.misses:>11} "
        f"{stats.bytes / 1e6:>9.0f} {stats.max_bytes / 1e6:>16.0f} {budget:>15.0f}"
    )
    frame_times.sort()
    print()
    print(
        f"{frames} jumps to random places and zooms: repaint median "
        f"{frame_times[len(frame_times) // 2]:.1f} ms, max {frame_times[-1]:.1f} ms "
        "(tiles then arrive from the workers)"
    )
    window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slide", type=Path, help="an existing slide to open")
    parser.add_argument("--size", type=int, default=50_000, help="side of a new slide")
    parser.add_argument("--frames", type=int, default=60, help="jumps while panning")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    if args.slide is not None:
        measure(app, args.slide, args.frames)
        return
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        slide = write_synthetic_slide(
            Path(folder) / "synthetic.ome.tif", (args.size, args.size)
        )
        print(f"wrote the slide in {time.perf_counter() - start:.0f} s")
        measure(app, slide.path, args.frames)


if __name__ == "__main__":
    main()
