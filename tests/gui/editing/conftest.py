"""Driving the editing tools as a person does: mouse presses, drags and keys on the
viewer at the screen position of image points; dialogs answered by the test."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QMessageBox

from engine.predictions import ImagePredictions, PredictedCell, PredictionStore

NONE = Qt.KeyboardModifier.NoModifier
LEFT = Qt.MouseButton.LeftButton
IMAGE_KEY = "im_Parabasal/001"
# Where the small dataset's im_Parabasal/001 has no cells: two model proposals.
PROPOSALS = [(1, (70.0, 180.0, 22.0), "dyskeratotic"), (2, (180.0, 205.0, 18.0), None)]


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Every message box answered without showing it: `answers` (a list) gives the
    next answers of the unsaved-edits question (Discard when empty); `shown` holds
    (kind, title, text) of every box."""
    record = SimpleNamespace(shown=[], answers=[])

    def warning(parent, title, text, *args, **kwargs):
        record.shown.append(("warning", title, text))
        if record.answers:
            return record.answers.pop(0)
        return QMessageBox.StandardButton.Discard

    def critical(parent, title, text, *args, **kwargs):
        record.shown.append(("critical", title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warning)
    monkeypatch.setattr(QMessageBox, "critical", critical)
    return record


def screen_point(window, x: float, y: float) -> QPoint:
    """The viewport position that shows image point (x, y)."""
    return window.viewer.view.mapFromScene(QPointF(x, y))


class Hands:
    """Mouse and keyboard on the window's viewer, in image coordinates; after each
    gesture the event loop runs once, as it does between a person's gestures."""

    def __init__(self, window, qtbot):
        self.window, self.qtbot = window, qtbot
        self.view = window.viewer.view
        self.viewport = self.view.viewport()

    def click(self, x, y, modifier=NONE, button=LEFT) -> None:
        self.qtbot.mouseClick(
            self.viewport, button, modifier, screen_point(self.window, x, y)
        )
        self.settle()

    def double_click(self, x, y) -> None:
        self.qtbot.mouseDClick(
            self.viewport, LEFT, NONE, screen_point(self.window, x, y)
        )
        self.settle()

    def drag(self, start, end, modifier=NONE, steps: int = 4) -> None:
        (x0, y0), (x1, y1) = start, end
        self.qtbot.mousePress(
            self.viewport, LEFT, modifier, screen_point(self.window, x0, y0)
        )
        for step in range(1, steps + 1):
            share = step / steps
            point = screen_point(
                self.window, x0 + (x1 - x0) * share, y0 + (y1 - y0) * share
            )
            self.qtbot.mouseMove(self.viewport, point)
        self.qtbot.mouseRelease(
            self.viewport, LEFT, modifier, screen_point(self.window, x1, y1)
        )
        self.settle()

    def key(self, key, modifier=NONE) -> None:
        self.window.activateWindow()
        self.view.setFocus()
        self.qtbot.keyClick(self.view, key, modifier)
        self.settle()

    def settle(self) -> None:
        self.qtbot.wait(1)

    def draw(self, points, close_with="enter") -> None:
        """Click the points; close with Enter or a double click on the last."""
        for x, y in points[:-1] if close_with == "double" else points:
            self.click(x, y)
        if close_with == "double":
            self.double_click(*points[-1])
        else:
            self.key(Qt.Key.Key_Return)


@pytest.fixture
def hands(window, qtbot) -> Hands:
    return Hands(window, qtbot)


def ellipse(cx: float, cy: float, rx: float, ry: float, vertices: int = 20):
    angles = np.linspace(0.0, 2.0 * np.pi, vertices, endpoint=False)
    return np.column_stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)])


def store_proposals(root: Path, image_size) -> PredictionStore:
    """A Mask R-CNN run with two cells where im_Parabasal/001 has none."""
    store = PredictionStore.for_dataset(root)
    cells = [
        PredictedCell(
            id=predicted_id,
            cytoplasm=ellipse(cx, cy, radius, radius * 0.8),
            nucleus=ellipse(cx, cy, radius / 3, radius / 3.5),
            score=0.87,
            probabilities={predicted: 0.7, "parabasal": 0.3} if predicted else None,
            predicted_class=predicted,
        )
        for predicted_id, (cx, cy, radius), predicted in PROPOSALS
    ]
    store.save_cells("run-1", ImagePredictions(IMAGE_KEY, image_size, cells))
    return store


@pytest.fixture
def proposed_dataset(dataset_drawer, tmp_path, image_size) -> Path:
    """The small dataset with two model proposals on im_Parabasal/001."""
    root = dataset_drawer(tmp_path / "proposed")
    store_proposals(root, image_size)
    return root


def dat_files(root: Path) -> dict[str, bytes]:
    """Every .dat file of the dataset (outside .cervix), by relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*.dat"))
        if ".cervix" not in path.parts
    }


@pytest.fixture
def disk_files():
    """`dat_files(root)`: every .dat file of a dataset, by relative path."""
    return dat_files


@pytest.fixture
def proposals():
    """The proposals of `proposed_dataset`: (id, (cx, cy, radius), class or None)."""
    return PROPOSALS
