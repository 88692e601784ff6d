"""A window killed in the middle of an editing session loses nothing: its edits
were journaled a moment after they were made, and opening the dataset again
offers them back as unsaved edits; a journal whose files changed on disk since
is reported and not applied."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np
from PySide6.QtCore import Qt

from cervix_gui.editing.dialogs import RecoveryDialog
from engine.annotations import Dataset
from engine.annotations.journal import Journal

IMAGE_KEY = "im_Parabasal/001"
FOLDER = "im_Parabasal/im_Parabasal"
CTRL = Qt.KeyboardModifier.ControlModifier

EDITOR = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from cervix_gui.main_window import MainWindow
    from engine.annotations.edit_tools import outline_edit
    from engine.annotations.edits import SetClass


    def wait(condition, what):
        deadline = time.monotonic() + 60
        while not condition():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() > deadline:
                sys.exit(f"gave up waiting for {what}")


    root = Path(sys.argv[1])
    window = MainWindow()
    window.show()
    window.open_path(root)
    wait(lambda: window.viewer.record is not None and not window.busy(), "the image")
    record, session = window.viewer.record, window.editing.session
    moved = record.cell(1).cytoplasm.copy()
    moved[0] = [95, 61]
    assert session.do(outline_edit(record, 1, "cytoplasm", moved))
    assert session.do(SetClass.of(record, [3], "koilocytotic"))
    journal = root / ".cervix" / "journal" / "im_Parabasal" / "001.json"
    wait(journal.exists, "the journal")
    print("journaled", flush=True)
    while True:
        app.processEvents()
        time.sleep(0.05)
    """
)


def _crash_while_editing(root, tmp_path) -> None:
    """Run a window that edits `root`, and kill it once its edits are journaled."""
    environment = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        CERVIX_DATA_DIR=str(tmp_path / "data-dir"),
    )
    editor = subprocess.Popen(
        [sys.executable, "-c", EDITOR, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert editor.stdout.readline().strip() == "journaled"
    finally:
        editor.send_signal(signal.SIGKILL)
        editor.wait()


def _answer_recovery(monkeypatch, choice: str) -> list[list[str]]:
    """Answer the recovery dialog with `choice`; return what each one listed."""
    listed = []

    def answer(dialog) -> int:
        listed.append(dialog.lines())
        dialog.choice = choice
        return 1

    monkeypatch.setattr(RecoveryDialog, "exec", answer)
    return listed


def test_edits_of_a_killed_window_are_restored(
    window, open_in, hands, small_dataset, tmp_path, monkeypatch, disk_files
):
    _crash_while_editing(small_dataset, tmp_path)
    assert (small_dataset / ".cervix" / "lock").exists()  # left by the dead window
    stale = tmp_path / "stale"
    shutil.copytree(small_dataset, stale)
    changed_since = stale / FOLDER / "001_cyt01.dat"
    changed_since.write_bytes(
        changed_since.read_bytes().replace(b"90.00,60.00", b"91.00,60.00")
    )

    # A journal whose files changed on disk since is listed but not applied.
    listed = _answer_recovery(monkeypatch, "restore")
    open_in(stale)
    assert len(listed) == 1 and "not restorable" in listed[0][0]
    assert "001_cyt01.dat changed on disk" in window.status.currentMessage()
    assert not window.isWindowModified()
    assert window.viewer.record.cell(1).cytoplasm[0].tolist() == [91, 60]

    # The untouched copy gets its edits back as unsaved edits.
    before = disk_files(small_dataset)
    open_in(small_dataset)
    (lines,) = listed[1:]
    assert len(lines) == 1
    assert f"{IMAGE_KEY}: 2 cells changed" in lines[0]
    record = window.viewer.record
    assert record.cell(1).cytoplasm[0].tolist() == [95, 61]
    assert record.cell(3).class_name == "koilocytotic"
    assert window.isWindowModified()
    assert window.browser.mark(IMAGE_KEY) == "\u25cf"
    assert disk_files(small_dataset) == before
    undo = window.editing.menu.undo.text().replace("&", "")
    assert undo.startswith("Undo Restore the unsaved edits of")

    # The restored edits undo and redo as one step, and save as any edit.
    hands.key(Qt.Key.Key_Z, CTRL)
    assert record.cell(1).cytoplasm[0].tolist() == [90, 60]
    hands.key(Qt.Key.Key_Y, CTRL)
    hands.key(Qt.Key.Key_S, CTRL)
    assert not window.isWindowModified()
    reopened = Dataset.open(small_dataset).image(IMAGE_KEY)
    assert np.array_equal(reopened.cell(1).cytoplasm[0], [95, 61])
    assert reopened.cell(3).class_name == "koilocytotic"
    assert not any((small_dataset / ".cervix" / "journal").rglob("*.json"))


def test_discarded_journal_edits_are_gone(
    window, open_in, small_dataset, monkeypatch, disk_files
):
    # Edits journaled by a window that is gone (written here without one).
    left_behind = Dataset.open(small_dataset)
    image = left_behind.image(IMAGE_KEY)
    image.cells.pop()
    Journal(left_behind.project).record(left_behind, image)
    before = disk_files(small_dataset)
    listed = _answer_recovery(monkeypatch, "discard")

    open_in(small_dataset)

    assert f"{IMAGE_KEY}: 1 cell deleted" in listed[0][0]
    assert len(window.viewer.record.cells) == 3
    assert not window.isWindowModified()
    assert not any((small_dataset / ".cervix" / "journal").rglob("*.json"))
    assert disk_files(small_dataset) == before
