"""The layers: each can be hidden, shown and faded from the layers dock or its
shortcut, the model layers show what the PredictionStore holds, and say why
they are empty when nothing is stored."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage

LAYERS = ["image", "annotations", "instances", "mask", "classification", "heatmap"]


def _viewport_pixels(window) -> np.ndarray:
    image = window.viewer.view.viewport().grab().toImage()
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(
        image.height(), image.bytesPerLine()
    )
    # A copy: the QImage, and the memory the array looks at, go with this frame.
    return (
        pixels[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()
    )


def _colour_at(window, x: float, y: float) -> np.ndarray:
    """The mean colour on screen around an image point."""
    point = window.viewer.view.mapFromScene(QPointF(x, y))
    pixels = _viewport_pixels(window)
    patch = pixels[point.y() - 2 : point.y() + 3, point.x() - 2 : point.x() + 3]
    return patch.reshape(-1, 3).mean(axis=0)


def _distance(colour: np.ndarray, target: QColor) -> float:
    return float(np.abs(colour - [target.red(), target.green(), target.blue()]).sum())


def test_without_predictions_the_model_layers_say_why_and_are_greyed_out(
    window, open_in, small_dataset
):
    open_in(small_dataset)

    rows = window.layers_dock.rows
    for name in ("instances", "mask", "classification", "heatmap"):
        assert not rows[name].check.isEnabled()
        assert "run the models" in rows[name].check.toolTip()
    for name in ("image", "annotations"):
        assert rows[name].check.isEnabled()
    assert not window.layers_dock.runs.isEnabled()


def test_every_layer_is_shown_from_the_stored_predictions(
    window, open_in, predicted_dataset
):
    open_in(predicted_dataset)

    layers = window.viewer.layers
    assert window.layers_dock.current_run() == "run-1"
    for name in LAYERS:
        assert layers[name].available, name
        assert window.layers_dock.rows[name].check.isEnabled()
    assert layers["instances"].cell_count() == 3
    classified = layers["classification"].outlines
    assert {classified.class_names[c] for c in classified.class_codes} == {
        "koilocytotic"
    }
    assert layers["mask"].provider.size() == (320.0, 240.0)
    # The classification fills cells in the koilocytotic colour, orange.
    orange = window.class_palette.colour("koilocytotic")
    for name in ("mask", "heatmap", "annotations", "instances"):
        window.layers_dock.rows[name].set_visible(False)
    filled = _colour_at(window, 150 + 2, 90 + 12)  # inside cell 2, off its nucleus
    window.layers_dock.rows["classification"].set_visible(False)
    bare = _colour_at(window, 150 + 2, 90 + 12)
    assert _distance(filled, orange) < _distance(bare, orange) - 60


def test_toggling_each_layer_by_its_box_and_shortcut_changes_the_picture(
    window, open_in, idle, predicted_dataset, qtbot
):
    open_in(predicted_dataset)
    rows = window.layers_dock.rows

    for name in LAYERS:
        row = rows[name]
        before = _viewport_pixels(window)
        row.check.setChecked(False)
        assert not window.viewer.layers[name].isVisible()
        assert not row.action.isChecked()
        hidden = _viewport_pixels(window)
        assert not np.array_equal(before, hidden), f"hiding {name} changed nothing"
        qtbot.keyClick(
            window,
            Qt.Key(ord(row.key_label.text()[-1])),
            Qt.KeyboardModifier.AltModifier,
        )
        assert window.viewer.layers[name].isVisible(), f"{name}'s shortcut"
        assert row.check.isChecked()


def test_opacity_fades_a_layer(window, open_in, predicted_dataset):
    open_in(predicted_dataset)
    rows = window.layers_dock.rows
    for name in LAYERS:
        if name not in ("image", "heatmap"):
            rows[name].set_visible(False)
    hot = (280, 20)  # the heatmap's hot half, on bare background
    rows["heatmap"].set_visible(False)
    bare = _colour_at(window, *hot)
    rows["heatmap"].set_visible(True)
    strong = _colour_at(window, *hot)

    rows["heatmap"].slider.setValue(15)

    assert window.viewer.layers["heatmap"].opacity() == 0.15
    faded = _colour_at(window, *hot)
    assert np.abs(faded - bare).sum() < np.abs(strong - bare).sum() / 3


def test_clicking_a_cell_selects_it_even_with_predictions_on_top(
    window, open_in, predicted_dataset, small_layout
):
    open_in(predicted_dataset)
    cx, cy, _ = small_layout["im_Parabasal"]["001"][1]

    window.viewer.select_at(QPointF(cx, cy))

    assert window.viewer.selection.cells == (2,)
    assert window.inspector.value("cell").startswith("2")
