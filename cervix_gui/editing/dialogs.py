"""The questions editing asks: what to do with unsaved edits before the window
closes or another dataset opens, whether to restore edits a crash left in the
journal, and why a save failed."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

STALE_COLOUR = QColor("#9a3b3b")


def ask_about_unsaved(parent, image_keys: list[str], leaving: str) -> str:
    """'save', 'discard' or 'cancel': what to do with unsaved edits before
    `leaving` ("closing", "opening another dataset")."""
    count = len(image_keys)
    images = "1 image has" if count == 1 else f"{count} images have"
    listed = ", ".join(image_keys[:5]) + (" and more" if count > 5 else "")
    answer = QMessageBox.warning(
        parent,
        "Unsaved edits",
        f"{images} unsaved edits ({listed}).\n\nSave them before {leaving}?",
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Save,
    )
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def report_save_failure(parent, message: str) -> None:
    QMessageBox.critical(
        parent,
        "Not saved",
        f"{message}\n\nNothing was lost: your edits are still in the window and "
        "in the crash journal. Fix the problem and save again.",
    )


def local_time(iso_time: str) -> str:
    """An ISO 8601 UTC time as the workstation's local date and time."""
    try:
        return datetime.fromisoformat(iso_time).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso_time


class RecoveryDialog(QDialog):
    """Lists the unsaved edits a crash left behind and asks what to do with them:
    `choice` is 'restore', 'discard' or 'later' after `exec`."""

    def __init__(self, entries, conflicts: dict, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Restore unsaved edits?")
        self.choice = "later"
        restorable = [entry for entry in entries if entry.path not in conflicts]
        intro = QLabel(
            "Cervix Studio ended before these edits were saved. Restore them as "
            "unsaved edits (you can then save or undo them), or discard them?"
        )
        intro.setWordWrap(True)
        self.entries = QListWidget()
        for entry in entries:
            text = (
                f"{local_time(entry.time)}  {entry.image_key}: {entry.summary} "
                f"(by {entry.author})"
            )
            item = QListWidgetItem(text)
            reason = conflicts.get(entry.path)
            if reason:
                item.setText(text + " \u2014 not restorable, its files changed on disk")
                item.setForeground(QBrush(STALE_COLOUR))
                item.setToolTip(reason)
            self.entries.addItem(item)
        buttons = QDialogButtonBox()
        self.restore_button = QPushButton(
            f"Restore {len(restorable)}"
            if len(restorable) != len(entries)
            else "Restore"
        )
        self.restore_button.setEnabled(bool(restorable))
        self.discard_button = QPushButton("Discard")
        later = QPushButton("Decide later")
        later.setToolTip(
            "Keep them in the journal; editing one of these images replaces its "
            "old unsaved edits."
        )
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(
            self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole
        )
        buttons.addButton(later, QDialogButtonBox.ButtonRole.RejectRole)
        self.restore_button.clicked.connect(lambda: self._choose("restore"))
        self.discard_button.clicked.connect(lambda: self._choose("discard"))
        later.clicked.connect(lambda: self._choose("later"))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.entries)
        layout.addWidget(buttons)
        self.resize(640, 280)
        self.restore_button.setDefault(True)
        self.setWindowModality(Qt.WindowModality.WindowModal)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept() if choice != "later" else self.reject()

    def lines(self) -> list[str]:
        """The entries as listed, for a test or a log."""
        return [self.entries.item(row).text() for row in range(self.entries.count())]
