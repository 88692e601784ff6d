"""Opening: a dataset folder, a single image or a slide, from the File menu, the
recent list, a drop on the window or the command line; recent files are kept in
the (test's own) settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from cervix_gui.app import main
from cervix_gui.recent_files import RecentFiles


def test_settings_are_the_tests_own(isolated_settings):
    assert QSettings().fileName().startswith(str(isolated_settings))


def test_opened_paths_are_remembered_most_recent_first(
    window, open_in, small_dataset, small_slide
):
    open_in(small_dataset)
    open_in(small_slide)
    open_in(small_dataset)

    recent = RecentFiles().paths()
    assert recent == [small_dataset.resolve(), small_slide.resolve()]
    window.recent_menu.aboutToShow.emit()
    titles = [action.text() for action in window.recent_menu.actions()]
    assert titles[:2] == ["&1 small", "&2 smear.ome.tif"]
    assert "Clear the list" in titles


def test_choosing_a_recent_file_opens_it(
    window, open_in, idle, qtbot, small_dataset, small_slide
):
    open_in(small_slide)
    open_in(small_dataset)
    window.recent_menu.aboutToShow.emit()

    window.recent_menu.actions()[1].trigger()
    qtbot.waitUntil(lambda: window.single_image is not None)
    idle()

    assert window.viewer.record.path == small_slide
    assert window.windowTitle().startswith("smear.ome.tif")


def test_a_single_image_opens_from_the_file_menu(
    window, idle, qtbot, small_dataset, monkeypatch
):
    image = small_dataset / "im_Parabasal" / "im_Parabasal" / "001.bmp"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(image), "")
    )

    window.open_image_action.trigger()
    qtbot.waitUntil(lambda: window.single_image is not None)
    idle()

    assert window.viewer.record.path == image
    assert window.viewer.has_pixels
    assert window.viewer.layers["annotations"].cell_count() == 0  # none beside it
    assert window.dataset is None


def test_dropping_a_slide_on_the_window_opens_it(window, idle, qtbot, small_slide):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(small_slide))])
    centre = QPointF(window.rect().center())
    enter = QDragEnterEvent(
        centre,
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(
        centre,
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )

    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.single_image is not None)
    idle()

    assert enter.isAccepted() and drop.isAccepted()
    assert window.viewer.record.key == "smear.ome.tif"
    assert window.viewer.has_pixels


def test_the_command_line_opens_a_slide(qapp, small_slide, tmp_path):
    output = tmp_path / "slide.png"

    assert (
        main(["--screenshot", str(output), str(small_slide), "--size", "1000x700"]) == 0
    )

    with Image.open(output) as picture:
        assert picture.size == (1000, 700)
        # The slide is pale glass with cells, not the dark empty view.
        grey = np.asarray(picture.convert("L").crop((450, 250, 650, 450)))
        assert grey.mean() > 120


def test_a_missing_file_on_the_command_line_fails_cleanly(qapp, tmp_path, capsys):
    status = main(["--screenshot", str(tmp_path / "x.png"), str(tmp_path / "gone.svs")])

    assert status == 1
    assert f"{tmp_path / 'gone.svs'}: no such slide file" in capsys.readouterr().err
    assert not Path(tmp_path / "x.png").exists()


def test_a_missing_image_is_named_as_an_image_with_its_path(window, open_in, tmp_path):
    from cervix_gui.opening import what_is_opened

    window.errors_in_dialogs = False  # the message goes to the status bar
    missing = tmp_path / "moved" / "003.bmp"

    assert not open_in(missing)

    message = window.status.currentMessage()
    assert message.startswith(f"{missing}: no such image file")
    assert what_is_opened(missing) == "image"
    assert what_is_opened(tmp_path / "gone") == "file or folder"
    assert what_is_opened(tmp_path) == "dataset folder"


def test_a_synthetic_slide_is_marked_synthetic_and_a_plain_image_is_not(
    window, open_in, small_slide, tmp_path, qtbot
):
    plain = tmp_path / "plain.png"
    Image.fromarray(np.full((60, 80, 3), 210, np.uint8)).save(plain)
    mark = window.synthetic_slide_mark

    assert open_in(small_slide)
    qtbot.waitUntil(mark.shown)

    assert "not cells of a patient" in mark.label.text()
    assert window.status.dataset_label.text().endswith("(synthetic)")
    assert window.windowTitle().endswith("synthetic slide")

    assert open_in(plain)
    qtbot.waitUntil(lambda: not mark.shown())

    assert window.windowTitle() == "plain.png \u2014 Cervix Studio"
    assert not window.status.dataset_label.text().endswith("(synthetic)")
