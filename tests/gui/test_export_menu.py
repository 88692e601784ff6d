"""File ▸ Export on the real window: each format written where the user chose,
loadable by the tools that read it, unsaved edits included, and a failure
named with its path."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.annotations.interchange import EXPORT_FORMATS

EXPORT_TIMEOUT_MS = 20000


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window with its own settings file, as a user's first start."""
    from cervix_gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    main_window = MainWindow(settings=settings)
    main_window.resize(1000, 700)
    qtbot.addWidget(main_window)
    main_window.show()
    qtbot.waitExposed(main_window)
    return main_window


@pytest.fixture
def destination(monkeypatch):
    """Answer the file and folder dialogs with `chosen[0]`; records the titles."""
    chosen: list[Path] = []
    asked: list[str] = []

    def save_file(parent, title, start, file_filter=""):
        asked.append(title)
        return str(chosen[0]), file_filter

    def folder(parent, title, start=""):
        asked.append(title)
        return str(chosen[0])

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_file))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(folder))
    return chosen


def export(window, qtbot, name: str) -> str:
    """Choose File ▸ Export ▸ `name` and wait for the status bar's answer."""
    window.export_menu.actions[name].trigger()
    qtbot.waitUntil(lambda: not window.export_menu.busy(), timeout=EXPORT_TIMEOUT_MS)
    return window.status.currentMessage()


def cell_count(layout: dict) -> int:
    return sum(len(cells) for images in layout.values() for cells in images.values())


def image_count(layout: dict) -> int:
    return sum(len(images) for images in layout.values())


def test_the_menu_offers_what_cervix_export_does_once_a_dataset_is_open(
    window, open_in, small_dataset, qtbot
):
    export_menu = window.export_menu
    file_titles = [a.text() for a in window.file_menu.actions()]

    assert "E&xport" in file_titles
    assert sorted(export_menu.actions) == sorted(EXPORT_FORMATS)
    assert not any(a.isEnabled() for a in export_menu.actions.values())

    assert open_in(small_dataset)
    qtbot.waitUntil(lambda: export_menu.actions["coco"].isEnabled())
    assert all(a.isEnabled() for a in export_menu.actions.values())
    assert "unsaved edits included" in export_menu.actions["csv"].toolTip()


def test_coco_export_loads_in_pycocotools(
    window, open_in, small_dataset, small_layout, destination, tmp_path, qtbot
):
    from pycocotools.coco import COCO

    assert open_in(small_dataset)
    destination.append(tmp_path / "out" / "cells")  # no suffix: .coco.json added

    message = export(window, qtbot, "coco")

    written = tmp_path / "out" / "cells.coco.json"
    coco = COCO(str(written))
    cells, images = cell_count(small_layout), image_count(small_layout)
    assert len(coco.getAnnIds()) == cells
    assert len(coco.getImgIds()) == images
    assert f"Exported {cells} cells of {images} images to {written}" in message


def test_geojson_export_writes_one_file_of_cells_per_image(
    window, open_in, small_dataset, small_layout, destination, tmp_path, qtbot
):
    assert open_in(small_dataset)
    destination.append(tmp_path / "geojson")

    message = export(window, qtbot, "geojson")

    files = sorted((tmp_path / "geojson").glob("*.geojson"))
    assert len(files) == image_count(small_layout)
    features = [
        feature
        for path in files
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]
    ]
    assert len(features) == cell_count(small_layout)
    assert {f["properties"]["objectType"] for f in features} == {"cell"}
    assert f"Exported {cell_count(small_layout)} cells" in message


def test_mask_export_writes_cell_and_nucleus_masks_and_labels(
    window,
    open_in,
    small_dataset,
    small_layout,
    image_size,
    destination,
    tmp_path,
    qtbot,
):
    assert open_in(small_dataset)
    folder = tmp_path / "masks"
    destination.append(folder)

    export(window, qtbot, "masks")

    masks = sorted(folder.rglob("*.png"))
    assert len(masks) == 2 * image_count(small_layout)
    with Image.open(masks[0]) as mask:
        assert mask.size == image_size
    with (folder / "labels.csv").open(newline="") as labels:
        assert len(list(csv.DictReader(labels))) == cell_count(small_layout)


def test_csv_export_holds_the_unsaved_class_the_window_shows(
    window, open_in, small_dataset, small_layout, destination, tmp_path, qtbot
):
    assert open_in(small_dataset)
    record = window.current_record()
    cell = record.cells[0]
    new_class = "parabasal" if cell.class_name != "parabasal" else "metaplastic"
    window.viewer.selection.select(record.key, [cell.index])
    window.editing.set_class(new_class)
    assert window.editing.session.unsaved_keys() == [record.key]
    destination.append(tmp_path / "cells.csv")

    message = export(window, qtbot, "csv")

    with (tmp_path / "cells.csv").open(newline="") as table:
        rows = list(csv.DictReader(table))
    assert len(rows) == cell_count(small_layout)
    edited = next(
        row
        for row in rows
        if row["image"] == record.key and int(row["index"]) == cell.index
    )
    assert edited["class"] == new_class
    assert "Unsaved edits of 1 image included" in message
    window.errors_in_dialogs = False  # closing keeps the edit in the journal


def test_an_unwritable_destination_is_named_in_the_message(
    window, open_in, small_dataset, destination, tmp_path, qtbot, monkeypatch
):
    shown = []
    monkeypatch.setattr(
        QMessageBox,
        "critical",
        staticmethod(lambda parent, title, text, *rest: shown.append((title, text))),
    )
    assert open_in(small_dataset)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be\n")
    destination.append(blocker / "cells.coco.json")

    message = export(window, qtbot, "coco")

    assert message.startswith("Not exported:")
    assert len(shown) == 1
    title, text = shown[0]
    assert title == "Export failed"
    assert str(blocker) in text
    assert "--out" not in text
    assert not (blocker.parent / "cells.coco.json").exists()
    assert window.export_menu.actions["coco"].isEnabled()  # the user may try again
