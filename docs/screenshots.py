"""The user guide's screenshots, taken of the real main window on a fresh copy of
the built-in synthetic sample, so every picture in docs/guide shows the window as
the code builds it today.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots.py [--out docs/images]

It draws the sample in a temporary folder, trains a tiny classifier there for a
few seconds and runs it over the sample (so the review pictures have something
to review), and writes guide-*.png. Pictures of parts the window does not have
yet (the Models and Jobs docks, Preferences) are skipped with a line saying so.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
WINDOW_SIZE = (1400, 900)
SHOWN_IMAGE = "im_Dyskeratotic/002"
WAIT_S = 60.0  # how long one state may take to open, read and draw
TRAINING_WAIT_S = 300.0
RUN = "guide"
WHOLE_RUN_S = 900
SLIDE_SIZE = (12000, 9000)  # large enough for a pyramid, drawn in seconds
SLIDE_ZOOM = 0.5
CLOSE_UP_ZOOM = 3.5  # a cell of the sample fills a good part of the viewer

log = logging.getLogger("screenshots")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=REPOSITORY / "docs" / "images",
        help="folder for the guide-*.png files (default: docs/images)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary sample folder and print where it is",
    )
    parser.add_argument(
        "--no-models",
        action="store_true",
        help="skip training and the pictures that need a model (fast)",
    )
    return parser.parse_args(argv)


class Camera:
    """Runs the event loop until a window is idle and saves widgets as PNGs."""

    def __init__(self, out: Path):
        self.out = out
        self.written: list[str] = []
        self.skipped: list[str] = []

    def settle(self, window=None, seconds: float = WAIT_S) -> None:
        """Let the window open, read, measure and draw whatever it started."""
        from PySide6.QtWidgets import QApplication

        deadline = time.monotonic() + seconds
        QApplication.processEvents()
        time.sleep(0.05)
        while time.monotonic() < deadline:
            QApplication.processEvents()
            if window is None or not window.busy():
                break
            time.sleep(0.02)
        # A second round: what finished may have started a redraw.
        for _ in range(5):
            QApplication.processEvents()
            time.sleep(0.02)

    def shoot(self, widget, name: str) -> None:
        """Save `widget` as it is drawn now to OUT/name."""
        path = self.out / name
        if not widget.grab().save(str(path), "PNG"):
            raise SystemExit(f"{path}: cannot be written; is the folder writable?")
        self.written.append(name)
        log.info("wrote %s", path)

    def skip(self, name: str, why: str) -> None:
        self.skipped.append(f"{name}: {why}")
        log.warning("skipped %s: %s", name, why)


def open_window(dataset: Path, settings, camera: Camera):
    """The real main window on `dataset`, laid out at the guide's size."""
    from cervix_gui.main_window import MainWindow

    window = MainWindow(settings=settings)
    window.errors_in_dialogs = False  # a screenshot run never waits on a dialog
    window.resize(*WINDOW_SIZE)
    window.show()
    failures: list[str] = []
    window.opener.failed.connect(lambda _path, message: failures.append(message))
    window.open_path(dataset)
    camera.settle(window)
    if failures:
        raise SystemExit(f"the sample did not open: {failures[0]}")
    if not window.browser.select_image(SHOWN_IMAGE):
        raise SystemExit(f"the sample has no image {SHOWN_IMAGE!r}")
    camera.settle(window)
    return window


def close_window(window, camera: Camera) -> None:
    """Undo the edits made for the pictures and close, giving the lock back."""
    for stack in window.editing.session.group.stacks():
        stack.setIndex(0)
    window.editing.session.discard_unsaved()
    camera.settle(window)
    window.close()
    camera.settle()


def biggest_cell(window):
    record = window.current_record()

    def extent(cell) -> float:
        x_min, y_min, x_max, y_max = cell.bounds
        return (x_max - x_min) * (y_max - y_min)

    return max(record.cells, key=extent)


def viewport_point(window, x: float, y: float):
    from PySide6.QtCore import QPointF

    return window.viewer.view.mapFromScene(QPointF(x, y))


def drag_vertex(window, cell, camera: Camera) -> None:
    """Drag one vertex of `cell`'s outline outwards, as a person would."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    viewport = window.viewer.view.viewport()
    vertices = cell.cytoplasm
    centre = vertices.mean(axis=0)
    x, y = vertices[0]
    target = (x + (x - centre[0]) * 0.35, y + (y - centre[1]) * 0.35)
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(viewport, left, none, viewport_point(window, x, y))
    for step in range(1, 6):
        share = step / 5
        point = viewport_point(
            window, x + (target[0] - x) * share, y + (target[1] - y) * share
        )
        QTest.mouseMove(viewport, point)
    QTest.mouseRelease(viewport, left, none, viewport_point(window, *target))
    camera.settle(window)


def click_points(window, points, camera: Camera) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    viewport = window.viewer.view.viewport()
    for x, y in points:
        QTest.mouseClick(
            viewport,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            viewport_point(window, x, y),
        )
        camera.settle(window, 2.0)


def shoot_first_look(window, camera: Camera) -> None:
    """The dataset open; a cell selected; an outline being edited; drawing."""
    camera.shoot(window, "guide-main-window.png")

    cell = biggest_cell(window)
    key = window.current_record().key
    window.viewer.selection.select(key, (cell.index,))
    window.viewer.view.set_zoom(CLOSE_UP_ZOOM)
    window.viewer.centre_on_cell(cell.index)
    camera.settle(window)
    camera.shoot(window, "guide-cell-selected.png")

    window.editing.use_tool("edit")
    window.viewer.selection.select(key, (cell.index,))
    camera.settle(window)
    drag_vertex(window, cell, camera)
    window.editing.menu.history_dock.show()
    window.editing.menu.history_dock.raise_()
    camera.settle(window)
    camera.shoot(window, "guide-editing.png")
    window.editing.menu.history_dock.hide()

    # A new cell half drawn: the points clicked so far, not yet closed.
    record = window.current_record()
    width, height = record.size
    window.viewer.selection.clear()
    window.viewer.view.fit()
    window.editing.use_tool("draw")
    camera.settle(window)
    cx, cy = width * 0.2, height * 0.25
    radius = min(width, height) * 0.08
    click_points(
        window,
        [
            (cx - radius, cy),
            (cx - radius * 0.4, cy - radius * 0.9),
            (cx + radius * 0.6, cy - radius * 0.8),
            (cx + radius, cy + radius * 0.1),
        ],
        camera,
    )
    camera.shoot(window, "guide-drawing.png")
    window.viewer.view.tool.reset()
    window.editing.use_tool("edit")
    camera.settle(window)


def run_tiny_model(dataset: Path) -> None:
    """A tiny classifier trained for a few seconds and run over the sample: its
    guesses are poor, which is right for pictures of the review, not of a model."""
    from engine.cli import main as cervix

    models = dataset / ".cervix" / "models" / "tiny-cnn"
    status = cervix(
        [
            "train",
            "classifier",
            "--data",
            str(dataset),
            "--arch",
            "tiny-cnn",
            "--epochs",
            "15",
            "--lr",
            "1e-3",
            "--max-steps",
            "10",
            "--device",
            "cpu",
            "--seed",
            "3",
        ]
    )
    if status != 0:
        raise SystemExit("training the tiny classifier failed; see above")
    status = cervix(
        [
            "predict",
            "--model",
            str(models),
            "--input",
            str(dataset),
            "--run",
            RUN,
            "--device",
            "cpu",
        ]
    )
    if status != 0:
        raise SystemExit("running the tiny classifier failed; see above")


def shoot_review(window, camera: Camera) -> None:
    """The review gallery with the first cell chosen, and the summary."""
    review = window.review
    review.refresh()
    camera.settle(window)
    review.gallery_dock.show()
    review.gallery_dock.raise_()
    window.resizeDocks([review.gallery_dock], [360], _vertical())
    camera.settle(window)
    review.gallery.go_to(0)
    camera.settle(window)
    camera.shoot(window, "guide-review-gallery.png")

    review.summary_dock.show()
    review.summary_dock.raise_()
    review.summary.refresh()
    camera.settle(window)
    camera.shoot(window, "guide-review-summary.png")


def shoot_layers(window, camera: Camera) -> None:
    """The classification layer over the image, the annotations hidden."""
    window.measurements_dock.raise_()
    layers = window.viewer.layers
    layers["annotations"].setVisible(False)
    for action in window.layers_dock.actions():
        if "Annotations" in action.text():
            action.setChecked(False)
    camera.settle(window)
    camera.shoot(window, "guide-layers.png")
    for action in window.layers_dock.actions():
        if "Annotations" in action.text():
            action.setChecked(True)
    camera.settle(window)


def shoot_models(window, camera: Camera) -> None:
    """The Models dock, the fine-tuning dialog, and the Jobs dock after a short
    fine-tuning run; skipped while the window has no Models dock."""
    docks = getattr(window, "jobs", None)
    names = ("guide-models-dock.png", "guide-finetune-dialog.png", "guide-jobs.png")
    if docks is None or not hasattr(docks, "models"):
        for name in names:
            camera.skip(name, "the main window has no Models and Jobs docks yet")
        return
    # The right-hand column gets the window's height: Layers and Measurements
    # are out of the way for these three pictures.
    set_out_of_the_way(window, hidden=True)
    try:
        _shoot_model_docks(window, docks, camera, names)
    finally:
        set_out_of_the_way(window, hidden=False)


def set_out_of_the_way(window, hidden: bool) -> None:
    for dock in (window.layers_dock_widget, window.measurements_dock):
        dock.setVisible(not hidden)


def _shoot_model_docks(window, docks, camera: Camera, names) -> None:
    models = docks.models
    models.refresh()
    camera.settle(window)
    models_dock = models.parentWidget()
    while models_dock is not None and not hasattr(models_dock, "toggleViewAction"):
        models_dock = models_dock.parentWidget()
    if models_dock is not None:
        models_dock.show()
        models_dock.raise_()
    if models.tree.topLevelItemCount():
        models.tree.setCurrentItem(models.tree.topLevelItem(0))
        activate = getattr(models, "activate_selected", None)
        if activate is not None:
            activate()  # remembered in this run's own settings file only
    camera.settle(window)
    camera.shoot(window, "guide-models-dock.png")

    dialog = models.open_fine_tune_dialog()
    if dialog is None:
        camera.skip(names[1], "the fine-tuning dialog did not open")
        camera.skip(names[2], "no fine-tuning run to show")
        return
    camera.settle(window)
    camera.shoot(dialog, "guide-finetune-dialog.png")

    # A run short enough for a screenshot: one epoch of the tiny classifier.
    dialog.set_task("classifier", "tiny-cnn")
    dialog.epochs.setValue(2)
    dialog.image_size.setValue(64)
    dialog.test_share.setValue(0)
    cpu = dialog.device.findData("cpu")
    if cpu >= 0:
        dialog.device.setCurrentIndex(cpu)
    dialog.accept()
    camera.settle(window, TRAINING_WAIT_S)
    docks.queue.wait_all()
    camera.settle(window)
    jobs_dock = docks.jobs.parentWidget()
    while jobs_dock is not None and not hasattr(jobs_dock, "toggleViewAction"):
        jobs_dock = jobs_dock.parentWidget()
    if jobs_dock is not None:
        jobs_dock.raise_()
        window.resizeDocks([jobs_dock], [560], _horizontal())
    camera.settle(window)
    camera.shoot(window, "guide-jobs.png")


def shoot_slide(work: Path, settings, camera: Camera) -> None:
    """A synthetic whole slide opened on its own, zoomed in: the minimap shows
    where the view is, the scale bar its size."""
    from PySide6.QtCore import QPointF

    from cervix_gui.main_window import MainWindow
    from engine.cli import main as cervix

    slide = work / "slides" / "synthetic-slide.ome.tif"
    slide.parent.mkdir()
    width, height = SLIDE_SIZE
    status = cervix(
        ["synth-slide", str(slide), "--size", str(width), str(height), "--seed", "3"]
    )
    if status != 0:
        raise SystemExit("drawing the synthetic slide failed; see above")
    window = MainWindow(settings=settings)
    window.errors_in_dialogs = False
    window.resize(*WINDOW_SIZE)
    window.show()
    window.open_path(slide)
    camera.settle(window)
    window.viewer.view.set_zoom(SLIDE_ZOOM)
    window.viewer.view.centre_on(QPointF(width * 0.45, height * 0.5))
    camera.settle(window)
    camera.shoot(window, "guide-slide.png")
    window.close()
    camera.settle()


def preferences_action(window):
    """The window's Preferences… action, or None while it has none."""
    for action in window.findChildren(type(window.open_action)):
        if action.text().replace("&", "").startswith("Preferences"):
            return action
    return None


def shoot_preferences(window, camera: Camera) -> None:
    from PySide6.QtWidgets import QApplication, QDialog

    action = preferences_action(window)
    if action is None:
        camera.skip("guide-preferences.png", "the window has no Preferences… yet")
        return
    action.trigger()
    camera.settle(window)
    dialogs = [
        widget
        for widget in QApplication.topLevelWidgets()
        if isinstance(widget, QDialog) and widget.isVisible()
    ]
    if not dialogs:
        camera.skip("guide-preferences.png", "Preferences… opened no dialog")
        return
    camera.shoot(dialogs[0], "guide-preferences.png")
    dialogs[0].reject()
    camera.settle(window)


def _vertical():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Vertical


def _horizontal():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    # A dialog nobody can answer offscreen would hang the run: give up instead,
    # with every thread's stack on stderr.
    faulthandler.dump_traceback_later(WHOLE_RUN_S, exit=True)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = Path(tempfile.mkdtemp(prefix="cervix-guide-"))
    # The user's own recent files, sample and settings stay untouched.
    os.environ["CERVIX_DATA_DIR"] = str(work / "user-data")
    sys.path.insert(0, str(REPOSITORY))

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from engine.sample import SAMPLE_IMAGES_PER_CLASS, SAMPLE_NAME, SAMPLE_SEED
    from engine.synthetic import make_dataset

    app = QApplication.instance() or QApplication(["cervix-guide-screenshots"])
    app.setApplicationName("Cervix Studio")
    args.out.mkdir(parents=True, exist_ok=True)
    camera = Camera(args.out)
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    try:
        # The same sample `make run` opens: same size, same seed.
        dataset = make_dataset(
            work / SAMPLE_NAME,
            images_per_class=SAMPLE_IMAGES_PER_CLASS,
            seed=SAMPLE_SEED,
        )
        window = open_window(dataset, settings, camera)
        shoot_first_look(window, camera)
        close_window(window, camera)

        if args.no_models:
            for name in (
                "guide-layers.png",
                "guide-review-gallery.png",
                "guide-review-summary.png",
                "guide-models-dock.png",
                "guide-finetune-dialog.png",
                "guide-jobs.png",
            ):
                camera.skip(name, "--no-models")
        else:
            run_tiny_model(dataset)
            window = open_window(dataset, settings, camera)
            shoot_layers(window, camera)
            shoot_review(window, camera)
            window.measurements_dock.raise_()
            shoot_models(window, camera)
            close_window(window, camera)
        shoot_slide(work, settings, camera)
        window = open_window(dataset, settings, camera)
        shoot_preferences(window, camera)
        close_window(window, camera)
    finally:
        if args.keep:
            print(f"sample kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {len(camera.written)} pictures to {args.out}:")
    for name in camera.written:
        print(f"  {name}")
    for line in camera.skipped:
        print(f"  skipped {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
