"""Nothing is ever lost: a save that fails (read-only folder, full disk) or would
overwrite someone else's change says so and keeps the edits; closing or opening
another dataset asks first; each image keeps its own undo history; a dataset
another window is editing opens read-only."""

from __future__ import annotations

import errno
import json
import os
import socket

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from engine.annotations.journal import Journal
from engine.annotations.project import ProjectFolder

IMAGE_KEY = "im_Parabasal/001"
FOLDER = "im_Parabasal/im_Parabasal"
CTRL = Qt.KeyboardModifier.ControlModifier


def _journaled(root) -> list[str]:
    return [entry.image_key for entry in Journal(ProjectFolder(root)).pending()]


def _move_a_vertex(window, hands) -> np.ndarray:
    """Drag vertex 0 of cell 1, wait until the journal holds it (a moment after
    the edit), and return the cell's new outline."""
    hands.click(60, 60)
    hands.drag((90, 60), (100, 64))
    outline = window.viewer.record.cell(1).cytoplasm
    assert outline[0][0] > 95
    hands.qtbot.waitUntil(lambda: bool(_journaled(window.dataset.root)), timeout=5000)
    return outline.copy()


def _failing(monkeypatch, code: int) -> None:
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "replace", refuse)


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC])
def test_a_failed_save_says_why_and_keeps_the_edits(
    window, open_in, hands, small_dataset, disk_files, dialogs, monkeypatch, code
):
    open_in(small_dataset)
    before = disk_files(small_dataset)
    outline = _move_a_vertex(window, hands)

    with monkeypatch.context() as patch:
        _failing(patch, code)
        hands.key(Qt.Key.Key_S, CTRL)

    kind, title, text = dialogs.shown[-1]
    assert kind == "critical" and title == "Not saved"
    assert os.strerror(code) in text and "001_cyt01.dat" in text
    assert "Nothing was lost" in text
    assert disk_files(small_dataset) == before
    assert window.isWindowModified()
    assert window.browser.mark(IMAGE_KEY) == "\u25cf"
    assert np.array_equal(window.viewer.record.cell(1).cytoplasm, outline)
    assert window.editing.menu.undo.isEnabled()
    journaled = Journal(ProjectFolder(small_dataset)).pending()
    assert [entry.image_key for entry in journaled] == [IMAGE_KEY]
    assert np.array_equal(journaled[0].cells[0].cytoplasm, outline)

    # Once the disk is fixed, saving again writes the edit.
    hands.key(Qt.Key.Key_S, CTRL)
    assert not window.isWindowModified()
    saved = disk_files(small_dataset)[f"{FOLDER}/001_cyt01.dat"]
    first = [float(value) for value in saved.split(b"\n")[0].split(b",")]
    assert np.allclose(first, outline[0])
    assert Journal(ProjectFolder(small_dataset)).pending() == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_a_read_only_folder_fails_cleanly(
    window, open_in, hands, small_dataset, dialogs
):
    open_in(small_dataset)
    outline = _move_a_vertex(window, hands)
    folder = small_dataset / FOLDER
    folder.chmod(0o555)
    try:
        hands.key(Qt.Key.Key_S, CTRL)
    finally:
        folder.chmod(0o755)
    assert dialogs.shown[-1][1] == "Not saved"
    assert window.isWindowModified()
    assert np.array_equal(window.viewer.record.cell(1).cytoplasm, outline)


def test_a_file_changed_by_someone_else_is_not_overwritten(
    window, open_in, hands, small_dataset, dialogs
):
    open_in(small_dataset)
    _move_a_vertex(window, hands)
    theirs = b"10,10\n50,10\n50,50\n10,50\n"
    (small_dataset / FOLDER / "001_cyt01.dat").write_bytes(theirs)

    hands.key(Qt.Key.Key_S, CTRL)

    assert "changed on disk by someone else" in dialogs.shown[-1][2]
    assert (small_dataset / FOLDER / "001_cyt01.dat").read_bytes() == theirs
    assert window.isWindowModified()


@pytest.mark.parametrize(
    ("answer", "closes", "saved"),
    [
        (QMessageBox.StandardButton.Cancel, False, False),
        (QMessageBox.StandardButton.Save, True, True),
        (QMessageBox.StandardButton.Discard, True, False),
    ],
)
def test_closing_with_unsaved_edits_asks(
    window, open_in, hands, small_dataset, disk_files, dialogs, answer, closes, saved
):
    open_in(small_dataset)
    before = disk_files(small_dataset)
    _move_a_vertex(window, hands)
    dialogs.answers.append(answer)

    window.close()

    assert dialogs.shown[-1][1] == "Unsaved edits"
    assert IMAGE_KEY in dialogs.shown[-1][2]
    assert window.isVisible() is not closes
    changed = disk_files(small_dataset) != before
    assert changed is saved
    journal = Journal(ProjectFolder(small_dataset)).pending()
    assert bool(journal) is (not closes)  # kept while the edits are in the window
    lock = ProjectFolder(small_dataset).lock_path
    assert lock.exists() is (not closes)


def test_each_image_keeps_its_own_undo_history(
    window, open_in, hands, small_dataset, dialogs
):
    open_in(small_dataset)
    first = window.viewer.record.key
    _move_a_vertex(window, hands)
    second = "im_Parabasal/002"
    window.browser.select_image(second)
    assert window.viewer.record.key == second
    assert not window.editing.menu.undo.isEnabled()  # its own, empty history
    hands.click(100, 100)
    hands.key(Qt.Key.Key_Delete)
    assert window.viewer.record.cells == []
    assert window.browser.mark(first) == window.browser.mark(second) == "\u25cf"

    window.browser.select_image(first)
    assert window.editing.menu.undo.text().replace("&", "") == (
        "Undo Move vertex of cell 1"
    )
    hands.key(Qt.Key.Key_Z, CTRL)
    assert window.browser.mark(first) == ""
    assert window.browser.mark(second) == "\u25cf"
    assert window.isWindowModified()

    # Opening another dataset asks about the edits left on the second image.
    dialogs.answers.append(QMessageBox.StandardButton.Cancel)
    window.open_path(small_dataset)
    assert "im_Parabasal/002" in dialogs.shown[-1][2]
    assert window.dataset is not None and window.isWindowModified()


def test_a_dataset_edited_in_another_window_opens_read_only(
    window, open_in, hands, small_dataset
):
    lock = ProjectFolder(small_dataset).lock_path
    lock.parent.mkdir(parents=True)
    lock.write_text(
        json.dumps(
            {
                "user": "alice",
                "host": f"not-{socket.gethostname()}",
                "pid": 4242,
                "since": "2026-12-03T09:15:00+00:00",
            }
        )
    )
    open_in(small_dataset)
    editing = window.editing
    assert editing.banner.isVisible()
    text = editing.banner_text.text()
    assert text.startswith("Read-only:") and "alice" in text
    assert "since 2026-12-03T09:15:00" in text
    assert not editing.menu.tool_actions["draw"].isEnabled()
    assert not editing.menu.save.isEnabled()

    hands.click(60, 60)  # selecting still works, to look at cells
    assert window.viewer.selection.cells == (1,)
    hands.key(Qt.Key.Key_Delete)
    hands.drag((90, 60), (100, 64))
    assert [cell.index for cell in window.viewer.record.cells] == [1, 2, 3]
    assert window.viewer.record.cell(1).cytoplasm[0].tolist() == [90, 60]
    assert not window.isWindowModified()
    assert json.loads(lock.read_text())["user"] == "alice"  # their lock stays
