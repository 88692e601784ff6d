"""The main window's dataset actions: opening a folder, and saying clearly why a
folder cannot be opened."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from PySide6.QtWidgets import QFileDialog, QMessageBox

import engine.sample
import engine.synthetic


class MessageBoxes:
    """Stands in for QMessageBox.critical and keeps what it was asked to say."""

    def __init__(self):
        self.shown: list[tuple[str, str]] = []

    def critical(self, parent, title, text, *args, **kwargs):
        self.shown.append((title, text))
        return QMessageBox.StandardButton.Ok


def test_a_folder_that_is_not_a_dataset_is_explained(
    window, open_in, tmp_path, monkeypatch
):
    boxes = MessageBoxes()
    monkeypatch.setattr(QMessageBox, "critical", boxes.critical)
    folder = tmp_path / "holiday-photos"
    folder.mkdir()
    (folder / "beach.jpg").write_bytes(b"not really")

    assert not open_in(folder)

    assert len(boxes.shown) == 1
    title, text = boxes.shown[0]
    assert title == "Cannot open this dataset folder"
    assert str(folder) in text
    assert "im_Parabasal" in text  # what a dataset folder should hold
    assert window.dataset is None


def test_a_missing_folder_is_explained(window, open_in, tmp_path, monkeypatch):
    boxes = MessageBoxes()
    monkeypatch.setattr(QMessageBox, "critical", boxes.critical)

    assert not open_in(tmp_path / "nowhere")

    assert "no such file or folder" in boxes.shown[0][1]


def test_a_failed_open_keeps_the_dataset_already_shown(
    window, open_in, small_dataset, tmp_path, monkeypatch
):
    monkeypatch.setattr(QMessageBox, "critical", MessageBoxes().critical)
    open_in(small_dataset)

    open_in(tmp_path / "nowhere")

    assert window.dataset.root == small_dataset
    assert window.viewer.record is not None
    assert window.browser.image_keys()


def test_open_action_asks_for_a_folder_and_opens_it(
    window, idle, qtbot, small_dataset, monkeypatch
):
    asked = []

    def choose(parent, caption, start, *args, **kwargs):
        asked.append(caption)
        return str(small_dataset)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", choose)
    window.open_action.trigger()
    qtbot.waitUntil(lambda: window.dataset is not None)
    idle()

    assert asked == ["Open a dataset folder"]
    assert window.dataset.root == small_dataset
    assert window.windowTitle().startswith("small \u2014 Cervix Studio")
    assert window.viewer.record.key == window.browser.image_keys()[0]


def test_cancelling_the_open_dialog_changes_nothing(
    window, open_in, small_dataset, monkeypatch
):
    open_in(small_dataset)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: "")

    window.open_action.trigger()

    assert window.dataset.root == small_dataset


def test_opening_selects_and_shows_the_first_image(window, open_in, small_dataset):
    open_in(small_dataset)

    first = window.browser.image_keys()[0]
    assert first == "im_Parabasal/001"
    assert window.browser.current_key() == first
    assert window.viewer.record.key == first
    assert window.viewer.has_pixels


def test_legend_lists_the_dataset_classes_in_order(window, open_in, small_dataset):
    open_in(small_dataset)

    assert window.legend.class_names() == list(window.dataset.scheme.names)
    assert window.legend.label_text("superficial-intermediate") == (
        "Superficial-intermediate"
    )


def test_open_sample_draws_it_off_the_gui_thread_and_opens_it(
    window, qtbot, monkeypatch, dataset_drawer
):
    threads = []

    def draw(path, images_per_class, seed):
        threads.append(threading.current_thread())
        dataset_drawer(path, synthetic=True)

    monkeypatch.setattr(engine.sample, "checkout_sample_path", lambda: None)
    monkeypatch.setattr(engine.synthetic, "make_dataset", draw)

    window.open_sample_action.trigger()
    assert not window.open_sample_action.isEnabled()  # busy until it is ready
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10000)

    assert threads and threads[0] is not threading.main_thread()
    assert window.dataset.root == engine.sample.user_sample_path()
    assert window.windowTitle().endswith("synthetic sample")
    assert window.open_sample_action.isEnabled()


def test_a_sample_that_cannot_be_drawn_is_explained(window, qtbot, monkeypatch):
    boxes = MessageBoxes()
    monkeypatch.setattr(QMessageBox, "critical", boxes.critical)
    monkeypatch.setattr(engine.sample, "checkout_sample_path", lambda: None)

    def draw(path, images_per_class, seed):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(engine.synthetic, "make_dataset", draw)

    window.open_sample_action.trigger()
    qtbot.waitUntil(lambda: bool(boxes.shown), timeout=10000)

    title, text = boxes.shown[0]
    assert title == "No sample dataset"
    assert "Permission denied" in text and "CERVIX_DATA_DIR" in text
    assert window.dataset is None
    assert window.open_sample_action.isEnabled()


WINDOW_WITHOUT_TORCH = """
import sys, time
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from cervix_gui.main_window import MainWindow
window = MainWindow()
window.show()
window.open_path(Path(sys.argv[1]))
deadline = time.monotonic() + 60
while time.monotonic() < deadline and (window.busy() or window.dataset is None):
    app.processEvents()
    time.sleep(0.01)
docked = window.jobs.models_dock.toggleViewAction().isChecked()
print(window.dataset is not None, "torch" in sys.modules, docked)
window.close()
"""


def test_the_window_opens_a_dataset_without_importing_torch(small_dataset, tmp_path):
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    environment["XDG_CONFIG_HOME"] = str(tmp_path)  # no user's added models
    done = subprocess.run(
        [sys.executable, "-c", WINDOW_WITHOUT_TORCH, str(small_dataset)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    opened, torch_imported, models_dock = done.stdout.split()
    assert opened == "True"
    assert torch_imported == "False"  # torch loads when a model is first needed
    assert models_dock == "True"


def test_the_models_and_jobs_docks_are_in_the_window(window, open_in, small_dataset):
    open_in(small_dataset)
    titles = [action.text().replace("&", "") for action in window.menuBar().actions()]
    assert "Models" in titles
    assert window.jobs.models.card.text().startswith("No models yet")
    assert window.settings is window.recent.settings
