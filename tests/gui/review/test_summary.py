"""The review summary dock on the chosen run (see conftest.py): counts, and the
CSV and PDF exports through a file dialog the test answers."""

from __future__ import annotations

import csv

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from cervix_gui.review.summary_dock import ReviewSummaryDock
from engine.annotations import ReviewState
from engine.annotations.edits import SetReviewState
from tests.gui.review.conftest import KOILOCYTOTIC


def _answer(monkeypatch, path) -> list:
    asked = []

    def save_name(parent, title, default, filters, *args, **kwargs):
        asked.append((title, default, filters))
        return str(path), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    return asked


def test_the_summary_counts_and_exports(
    idle, window, open_in, reviewed_dataset, qtbot, tmp_path, monkeypatch
):
    open_in(reviewed_dataset)
    dock = ReviewSummaryDock(window)
    qtbot.addWidget(dock)
    dock.show()
    dock.refresh()
    annotated = sum(len(chances) for chances in KOILOCYTOTIC.values())
    koilocytotic = sum(p > 0.5 for chances in KOILOCYTOTIC.values() for p in chances)
    assert f"{annotated + 1} cells, {annotated + 1} unreviewed" in dock.totals.text()
    rows = {
        dock.table.item(row, 0).text(): dock.table.item(row, 1).text()
        for row in range(dock.table.rowCount())
    }
    assert rows["koilocytotic"] == str(koilocytotic)

    # A decision shows in the summary at once.
    record = window.dataset.image("im_Koilocytotic/001")
    window.show_image(record.key)
    window.editing.session.do(SetReviewState.of(record, [1], ReviewState.ACCEPTED))
    qtbot.waitUntil(lambda: "1 confirmed abnormal" in dock.totals.text(), timeout=3000)
    assert window.editing.session.save_all().ok

    asked = _answer(monkeypatch, tmp_path / "out" / "summary")
    (tmp_path / "out").mkdir()
    qtbot.mouseClick(dock.csv_button, Qt.MouseButton.LeftButton)
    written = tmp_path / "out" / "summary.csv"
    assert asked and written.exists()
    table = list(csv.DictReader(written.open()))
    total = table[-1]
    assert total["image"] == "TOTAL"
    assert int(total["cells"]) == annotated + 1
    assert int(total["predicted_koilocytotic"]) == koilocytotic
    assert int(total["reviewed_koilocytotic"]) == 1
    assert int(total["confirmed_abnormal"]) == 1
    assert len(table) == len(KOILOCYTOTIC) + 1

    _answer(monkeypatch, tmp_path / "out" / "report.pdf")
    qtbot.mouseClick(dock.pdf_button, Qt.MouseButton.LeftButton)
    report = tmp_path / "out" / "report.pdf"
    assert report.read_bytes().startswith(b"%PDF")
    assert report.stat().st_size > 2000
    idle()  # the window's measuring ends before it closes


def test_a_cancelled_export_writes_nothing(
    idle, window, open_in, reviewed_dataset, qtbot, tmp_path, monkeypatch
):
    open_in(reviewed_dataset)
    dock = ReviewSummaryDock(window)
    qtbot.addWidget(dock)
    dock.refresh()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert dock.export_csv() is None
    assert dock.export_pdf() is None
    assert not list(tmp_path.rglob("*.csv"))
    idle()  # the window's measuring ends before it closes


def test_per_image_rows_and_the_selected_images(
    idle, window, open_in, reviewed_dataset, qtbot
):
    open_in(reviewed_dataset)
    dock = window.review.summary
    qtbot.waitUntil(lambda: dock.summary is not None, timeout=10000)
    rows = {
        dock.images_table.item(row, 0).text(): dock.images_table.item(row, 2).text()
        for row in range(dock.images_table.rowCount())
    }
    assert rows["im_Parabasal/001"] == "3", "three cells still to review"
    assert rows["im_Parabasal/002"] == "2", "its cell and the model's extra one"

    dock.scope.setCurrentIndex(dock.scope.findData("selected"))
    window.browser.select_images(["im_Metaplastic/001", "im_Koilocytotic/002"])
    qtbot.waitUntil(lambda: dock.images_table.rowCount() == 2, timeout=5000)
    assert "4 cells, 4 unreviewed" in dock.totals.text()

    # A double-click on an image's row shows it.
    dock.images_table.cellDoubleClicked.emit(1, 0)
    assert window.current_record().key == dock.images_table.item(1, 0).text()
    idle()
