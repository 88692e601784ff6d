"""Preferences: what the dialog stores takes effect in the window at once, comes
back in the next window, can be reset to the defaults, and a stored value that
makes no sense falls back to its default instead of breaking the start."""

from __future__ import annotations

import logging
import sys
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from cervix_gui import preferences_dialog
from cervix_gui.palette import FIXED_COLOURS, choose_class_colours
from cervix_gui.preferences import (
    CACHE_DEFAULT_MB,
    MEGABYTE,
    default_device,
)
from cervix_gui.preferences_widgets import find_gpus
from cervix_gui.viewer.layer_stack import LAYER_COLOURS
from tests.gui.conftest import drawn_outlines, wait_until_idle

Buttons = QDialogButtonBox.StandardButton
GPUS = [("cuda:0", "Test GPU, 24 GB")]


@pytest.fixture
def settings_path(tmp_path):
    return tmp_path / "s.ini"


@pytest.fixture(autouse=True)
def gpus(monkeypatch):
    """Pretend this computer has one GPU, without the seconds importing torch takes."""
    found = list(GPUS)
    monkeypatch.setattr(preferences_dialog, "find_gpus", lambda: found)
    return found


@pytest.fixture(autouse=True)
def own_class_colours():
    """Class colours are application-wide: give later tests their own back."""
    yield
    choose_class_colours({})


@pytest.fixture
def make_window(qtbot, settings_path):
    """A real main window on the settings file; it installs its preferences."""
    from cervix_gui.main_window import MainWindow

    def make():
        settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        window.errors_in_dialogs = False
        qtbot.addWidget(window)
        return window, window.preferences

    return make


def press(dialog, button, qtbot) -> None:
    qtbot.mouseClick(dialog.buttons.button(button), Qt.MouseButton.LeftButton)


def test_ok_applies_every_preference_now_and_in_the_next_window(
    make_window, qtbot, settings_path, predicted_dataset
):
    window, handle = make_window()
    window.show()
    window.open_path(predicted_dataset)
    qtbot.waitUntil(lambda: window.viewer.layers["instances"].cell_count() == 3)
    wait_until_idle(window, qtbot)
    dialog = handle.open()

    dialog.cache_mb.setValue(512)
    dialog.opacities["instances"].slider.setValue(40)
    dialog.opacities["heatmap"].percent.setValue(25)
    dialog.set_layer_colour("instances", QColor("#ff00ff"))
    dialog.set_layer_colour("mask-cells", QColor("#ffaa00"))
    dialog.set_class_colour("parabasal", QColor("#000080"))
    dialog.device.setCurrentIndex(dialog.device.findData("cuda:0"))
    press(dialog, Buttons.Ok, qtbot)

    assert not dialog.isVisible()
    assert {cell.colour.name() for cell in drawn_outlines(window)} == {"#000080"}
    assert window.class_palette.colour("parabasal") == QColor("#000080")
    layers = window.viewer.layers
    assert window.viewer.cache.stats().max_bytes == 512 * MEGABYTE
    assert layers["instances"].opacity() == pytest.approx(0.40)
    assert layers["heatmap"].opacity() == pytest.approx(0.25)
    assert window.layers_dock.rows["instances"].slider.value() == 40
    assert layers["instances"].style.colour(0) == QColor("#ff00ff")
    assert layers["mask"].provider.mask_colours[0] == (255, 170, 0)
    text = settings_path.read_text()
    for line in (
        "tileCacheMB=512",
        "device=cuda:0",
        "instances=#ff00ff",
        "parabasal=#000080",
    ):
        assert line in text
    stored = QSettings(str(settings_path), QSettings.Format.IniFormat)
    assert default_device(stored) == "cuda:0"

    again, again_handle = make_window()
    assert again.viewer.cache.stats().max_bytes == 512 * MEGABYTE
    assert again.viewer.layers["instances"].opacity() == pytest.approx(0.40)
    assert again.layers_dock.rows["heatmap"].slider.value() == 25
    assert again.viewer.layers.colours["mask-cells"] == QColor("#ffaa00")
    assert again_handle.open().device.currentData() == "cuda:0"
    choose_class_colours({})  # as in a new process: only the store remembers
    again, _ = make_window()
    again.show()  # a hidden window never draws, so never finishes its tiles
    again.open_path(predicted_dataset)
    qtbot.waitUntil(lambda: again.class_palette is not None)
    wait_until_idle(again, qtbot)
    assert again.class_palette.colour("parabasal") == QColor("#000080")


def test_cancel_changes_nothing(make_window, qtbot, settings_path):
    window, handle = make_window()
    dialog = handle.open()

    dialog.cache_mb.setValue(1024)
    dialog.opacities["annotations"].set_opacity(0.1)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    press(dialog, Buttons.Cancel, qtbot)

    assert window.viewer.cache.stats().max_bytes == CACHE_DEFAULT_MB * MEGABYTE
    assert window.viewer.layers["annotations"].opacity() == 1.0
    assert not settings_path.exists() or "1024" not in settings_path.read_text()
    assert handle.open().cache_mb.value() == CACHE_DEFAULT_MB


def test_restore_defaults_resets_every_preference_once_confirmed(
    make_window, qtbot, monkeypatch
):
    window, handle = make_window()
    dialog = handle.open()
    dialog.cache_mb.setValue(64)
    dialog.opacities["mask"].set_opacity(0.3)
    dialog.set_layer_colour("instances", QColor("#123456"))
    dialog.device.setCurrentIndex(dialog.device.findData("cuda:0"))
    press(dialog, Buttons.Apply, qtbot)
    assert window.viewer.layers["mask"].opacity() == pytest.approx(0.3)

    monkeypatch.setattr(
        QMessageBox, "question", lambda *_args: QMessageBox.StandardButton.Cancel
    )
    assert not dialog.restore_defaults()
    assert window.viewer.cache.stats().max_bytes == 64 * MEGABYTE

    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *_args: QMessageBox.StandardButton.RestoreDefaults,
    )
    press(dialog, Buttons.RestoreDefaults, qtbot)

    assert window.viewer.cache.stats().max_bytes == CACHE_DEFAULT_MB * MEGABYTE
    assert window.viewer.layers["mask"].opacity() == 1.0
    default_instances = LAYER_COLOURS["instances"][2]
    assert window.viewer.layers.colours["instances"] == default_instances
    assert dialog.cache_mb.value() == CACHE_DEFAULT_MB
    assert dialog.device.currentData() == "auto"
    assert default_device(handle.preferences.settings) == "auto"
    parabasal = dialog.class_buttons["parabasal"].colour
    assert parabasal == QColor(FIXED_COLOURS["parabasal"])


def test_nonsense_in_the_settings_file_falls_back_to_the_defaults(
    make_window, settings_path, caplog
):
    settings_path.write_text(
        "[viewer]\ntileCacheMB=banana\n"
        "[layerColours]\ninstances=not-a-colour\n"
        "[layerOpacity]\nmask=7\n"
        "[models]\ndevice=quantum:3\n"
    )

    with caplog.at_level(logging.WARNING, logger="cervix_gui.preferences"):
        window, handle = make_window()

    assert window.viewer.cache.stats().max_bytes == CACHE_DEFAULT_MB * MEGABYTE
    assert window.viewer.layers.colours["instances"] == LAYER_COLOURS["instances"][2]
    assert window.viewer.layers["mask"].opacity() == 1.0
    assert default_device(handle.preferences.settings) == "auto"
    warned = caplog.text
    for key in ("tileCacheMB", "instances", "mask", "device"):
        assert key in warned
    assert handle.open().cache_mb.value() == CACHE_DEFAULT_MB


def test_recent_files_are_counted_and_cleared_only_on_ok(
    make_window, qtbot, small_dataset, tmp_path
):
    window, handle = make_window()
    window.recent.add(small_dataset)
    window.recent.add(tmp_path)
    dialog = handle.open()
    assert dialog.recent_count.text() == "2 files"

    dialog.clear_recent.click()
    press(dialog, Buttons.Cancel, qtbot)
    assert len(window.recent.paths()) == 2

    dialog = handle.open()
    dialog.clear_recent.click()
    press(dialog, Buttons.Ok, qtbot)
    assert window.recent.paths() == []


def test_preferences_is_in_the_edit_menu_with_its_shortcut(make_window):
    window, handle = make_window()

    edit = next(
        action.menu()
        for action in window.menuBar().actions()
        if action.menu() is not None and action.menu().title() == "&Edit"
    )

    assert handle.action in edit.actions()
    assert QKeySequence("Ctrl+,") in handle.action.shortcuts()
    handle.action.trigger()
    assert handle.dialog.isVisible()
    assert [handle.dialog.tabs.tabText(i) for i in range(5)] == [
        "Viewer",
        "Layers",
        "Classes",
        "Models",
        "Recent files",
    ]


def test_every_gpu_torch_finds_is_offered_with_its_name_and_memory(monkeypatch):
    names = ["NVIDIA RTX A4000", "NVIDIA H100"]
    cuda = SimpleNamespace(
        is_available=lambda: True,
        device_count=lambda: 2,
        get_device_properties=lambda index: SimpleNamespace(
            name=names[index], total_memory=16 * 1024**3 * (index + 1)
        ),
    )
    monkeypatch.setitem(sys.modules, "torch", SimpleNamespace(cuda=cuda))

    assert find_gpus() == [
        ("cuda:0", "NVIDIA RTX A4000, 16 GB"),
        ("cuda:1", "NVIDIA H100, 32 GB"),
    ]


def test_a_stored_gpu_this_computer_lacks_stays_chosen_and_says_so(
    make_window, settings_path, gpus
):
    settings_path.write_text("[models]\ndevice=cuda:3\n")
    gpus.clear()

    _window, handle = make_window()
    dialog = handle.open()

    assert dialog.device.currentData() == "cuda:3"
    assert "not found" in dialog.device.currentText()


def test_the_window_offers_preferences_once_in_its_edit_menu(make_window):
    window, _handle = make_window()

    edit_menu = next(
        action.menu()
        for action in window.menuBar().actions()
        if action.text().replace("&", "") == "Edit"
    )
    named = [
        action
        for action in edit_menu.actions()
        if action.text().replace("&", "").startswith("Preferences")
    ]
    assert named == [window.preferences.action]
