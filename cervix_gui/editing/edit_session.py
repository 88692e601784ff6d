"""The edits made to one open dataset: an unlimited undo stack per image, saving
through `Dataset.save`, the dataset's lock, and the crash journal written a
moment after each edit and every few seconds.

The session knows no widget: it applies edits, says which image's cells changed,
whether anything is unsaved and why editing is off, and leaves showing all that
to the window (see window_editing.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoGroup, QUndoStack

from cervix_gui.editing.undo_commands import EditCommand
from engine.annotations import Dataset, ImageRecord
from engine.annotations.edits import AddCell, DeleteCell, Edit, EditGroup
from engine.annotations.journal import Journal, JournalEntry
from engine.errors import CervixError, DatasetLockedError, SaveError
from engine.review import Triage

log = logging.getLogger(__name__)

JOURNAL_INTERVAL_MS = 3000  # unsaved edits reach the journal at least this often
JOURNAL_DELAY_MS = 800  # and this long after the last edit of a burst


@dataclass
class SaveOutcome:
    """What one Save did: the images saved, and the error that stopped it."""

    saved: list[str] = field(default_factory=list)
    written: int = 0
    removed: int = 0
    backup_dir: Path | None = None
    error: CervixError | None = None
    failed_key: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        """One line for the status bar."""
        if not self.saved:
            return "Nothing to save: every image is as it is on disk."
        images = "1 image" if len(self.saved) == 1 else f"{len(self.saved)} images"
        files = "1 file" if self.written == 1 else f"{self.written} files"
        text = f"Saved {images}: {files} written"
        if self.removed:
            text += f", {self.removed} removed"
        if self.backup_dir is not None:
            text += f"; the old files are in {self.backup_dir}"
        return text + "."


class EditSession(QObject):
    """Undo stacks, saving, the lock and the journal of the open dataset."""

    cells_changed = Signal(str)  # the image whose cells an edit, undo or redo changed
    saved = Signal(str)  # an image whose edits were saved
    modified_changed = Signal(bool)  # whether any image has unsaved edits
    message = Signal(str)  # for the status bar
    read_only_changed = Signal(str)  # why the dataset cannot be edited; "" if it can

    def __init__(self, parent=None):
        super().__init__(parent)
        self.group = QUndoGroup(self)
        self.dataset: Dataset | None = None
        self.journal: Journal | None = None
        self.read_only_reason = ""
        self.image_key: str | None = None
        self._lock = None
        self._stacks: dict[str, QUndoStack] = {}
        self._touched: set[str] = set()  # images edited since the dataset was opened
        self._unjournaled: set[str] = set()
        self._journal_warned = False
        self._modified = False
        self._journal_timer = QTimer(self)
        self._journal_timer.setInterval(JOURNAL_INTERVAL_MS)
        self._journal_timer.timeout.connect(self.flush_journal)
        self._journal_soon = QTimer(self)
        self._journal_soon.setSingleShot(True)
        self._journal_soon.setInterval(JOURNAL_DELAY_MS)
        self._journal_soon.timeout.connect(self.flush_journal)

    # -- the dataset ---------------------------------------------------------------

    def open_dataset(self, dataset: Dataset) -> None:
        """Edit `dataset` from now on, or only look at it when another editor holds
        its lock (then `read_only_reason` says who)."""
        self.close_dataset()
        self.dataset = dataset
        self.journal = Journal(dataset.project)
        lock = dataset.project.lock()
        try:
            lock.acquire()
        except DatasetLockedError as error:
            self._set_read_only(
                f"Read-only: {dataset.root.name} {error.message}. Close the other "
                "window to edit it here."
            )
        except SaveError as error:
            self._set_read_only(
                f"Read-only: {error.message}. Copy the dataset to a folder you can "
                "write to, to edit it."
            )
        else:
            self._lock = lock
            self._journal_timer.start()
        log.info(
            "Editing %r%s",
            str(dataset.root),
            f" read-only ({self.read_only_reason})" if self.read_only_reason else "",
        )

    def close_dataset(self) -> None:
        """Stop editing: forget the undo stacks and give the lock back. Unsaved
        edits not saved or discarded before stay in the journal."""
        self.flush_journal()
        self._journal_timer.stop()
        self._journal_soon.stop()
        for stack in self._stacks.values():
            self.group.removeStack(stack)
            stack.deleteLater()
        self._stacks.clear()
        self._touched.clear()
        self._unjournaled.clear()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self.dataset = self.journal = None
        self.image_key = None
        self._set_read_only("")
        self._emit_modified()

    def show_image(self, key: str | None) -> None:
        """The image `key` is shown: its undo stack becomes the Edit menu's."""
        self.image_key = key if self.dataset is not None else None
        self.group.setActiveStack(None if self.image_key is None else self.stack())

    @property
    def image(self) -> ImageRecord | None:
        """The image shown, when it belongs to the open dataset."""
        if self.dataset is None or self.image_key is None:
            return None
        return self.dataset.image(self.image_key)

    @property
    def editable(self) -> bool:
        return self.image is not None and not self.read_only_reason

    def stack(self, key: str | None = None) -> QUndoStack:
        """The undo stack of image `key` (the shown one by default); unlimited."""
        key = key or self.image_key
        stack = self._stacks.get(key)
        if stack is None:
            stack = QUndoStack(self.group)
            stack.setUndoLimit(0)
            self._stacks[key] = stack
        return stack

    def _set_read_only(self, reason: str) -> None:
        if reason != self.read_only_reason:
            self.read_only_reason = reason
            self.read_only_changed.emit(reason)

    # -- editing -------------------------------------------------------------------

    def do(self, change: Edit | Triage, text: str | None = None) -> bool:
        """Apply `change` to the shown image and put it on its undo stack; say
        why in the status bar and return False when it cannot be made."""
        if not self.editable:
            self.message.emit(self.read_only_reason or "Open a dataset to edit it.")
            return False
        key = self.image_key
        try:
            self.apply_change(key, change)
        except CervixError as error:
            self.message.emit(error.user_message())
            return False
        command_text = text or change.text
        self.stack(key).push(EditCommand(self, key, change, command_text))
        log.debug("%s: %s", key, command_text)
        return True

    def attempt(self, build: Callable[[], Edit | Triage], text: str | None = None):
        """Build an edit and do it; an outline that cannot be made valid (or any
        other refusal) is said in the status bar instead. Return the edit done,
        or None."""
        if not self.editable:
            self.message.emit(self.read_only_reason or "Open a dataset to edit it.")
            return None
        try:
            change = build()
        except CervixError as error:
            self.message.emit(error.user_message())
            return None
        return change if self.do(change, text) else None

    def apply_change(self, key: str, change: Edit | Triage) -> None:
        if isinstance(change, Triage):
            change.apply(self.dataset)
        else:
            change.apply(self.dataset.image(key))
        self._changed(key)

    def revert_change(self, key: str, change: Edit | Triage) -> None:
        if isinstance(change, Triage):
            change.revert(self.dataset)
        else:
            change.revert(self.dataset.image(key))
        self._changed(key)

    def _changed(self, key: str) -> None:
        self._touched.add(key)
        self._unjournaled.add(key)
        self._journal_soon.start()
        self.cells_changed.emit(key)
        self._emit_modified()

    # -- unsaved edits and saving ------------------------------------------------

    def is_modified(self, key: str) -> bool:
        return self.dataset is not None and self.dataset.is_modified(
            self.dataset.image(key)
        )

    def unsaved_keys(self) -> list[str]:
        """The images with edits not yet saved."""
        return sorted(key for key in self._touched if self.is_modified(key))

    def has_unsaved(self) -> bool:
        return bool(self.unsaved_keys())

    def _emit_modified(self) -> None:
        modified = self.has_unsaved()
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)

    def save_all(self) -> SaveOutcome:
        """Save every image with unsaved edits; stop at the first that fails, whose
        edits stay in the window and the journal."""
        outcome = SaveOutcome()
        if self.dataset is None:
            return outcome
        if self.read_only_reason:
            outcome.error = SaveError(self.read_only_reason)
            return outcome
        for key in self.unsaved_keys():
            try:
                report = self.dataset.save(self.dataset.image(key))
            except SaveError as error:
                log.warning("Saving %s failed: %s", key, error.user_message())
                outcome.error, outcome.failed_key = error, key
                self._unjournaled.add(key)
                self.flush_journal()
                break
            outcome.saved.append(key)
            outcome.written += len(report.written)
            outcome.removed += len(report.removed)
            outcome.backup_dir = report.backup_dir or outcome.backup_dir
            self.stack(key).setClean()
            self._forget_journal(key)
            self.saved.emit(key)
        self._emit_modified()
        return outcome

    # -- the journal -----------------------------------------------------------------

    def flush_journal(self) -> None:
        """Write the unsaved edits of every image edited since the last time."""
        if self.journal is None or self.read_only_reason:
            self._unjournaled.clear()
            return
        for key in sorted(self._unjournaled):
            try:
                self.journal.record(self.dataset, self.dataset.image(key))
            except (SaveError, OSError) as error:
                text = error.user_message() if isinstance(error, SaveError) else error
                if not self._journal_warned:
                    self.message.emit(
                        f"Unsaved edits cannot be kept for crash recovery: {text}. "
                        "Save soon."
                    )
                    self._journal_warned = True
                log.warning("Journal of %s not written: %s", key, text)
                continue
            self._unjournaled.discard(key)
            self._journal_warned = False

    def keep_unsaved_in_journal(self) -> list[str]:
        """Write every unsaved edit to the journal now; the images whose edits
        could not be written there (empty when all are kept)."""
        self.flush_journal()
        return sorted(self._unjournaled & set(self.unsaved_keys()))

    def _forget_journal(self, key: str) -> None:
        self._unjournaled.discard(key)
        try:
            self.journal.discard(key)
        except OSError as error:
            log.warning("The journal of %s stays: %s", key, error)

    def discard_unsaved(self) -> None:
        """The user chose to lose the unsaved edits: drop their journal too."""
        for key in self.unsaved_keys():
            self._forget_journal(key)
        self._unjournaled.clear()

    def pending_journal(self) -> list[JournalEntry]:
        """Unsaved edits left by a window that ended without saving them."""
        if self.journal is None or self.read_only_reason:
            return []
        return self.journal.pending()

    def journal_conflict(self, entry: JournalEntry) -> str | None:
        """Why `entry` cannot be restored any more, or None."""
        return self.journal.conflict(self.dataset, entry)

    def restore(self, entries: Iterable[JournalEntry]) -> list[str]:
        """Put the journaled edits back as unsaved edits, each image's as one undo
        step; return why each entry that could not be restored was not."""
        problems = []
        for entry in entries:
            reason = self.journal_conflict(entry)
            if reason is None and self.is_modified(entry.image_key):
                reason = f"{entry.image_key} already has other unsaved edits"
            if reason is not None:
                problems.append(reason)
                continue
            image = self.dataset.image(entry.image_key)
            change = _restoring_edit(image, entry)
            try:
                self.apply_change(image.key, change)
            except CervixError as error:
                problems.append(f"{entry.image_key}: {error.user_message()}")
                continue
            self.stack(image.key).push(
                EditCommand(self, image.key, change, change.text)
            )
            log.info("Restored unsaved edits of %s: %s", image.key, entry.summary)
        return problems

    def discard_journal(self, entries: Iterable[JournalEntry]) -> None:
        for entry in entries:
            self._forget_journal(entry.image_key)


def _restoring_edit(image: ImageRecord, entry: JournalEntry) -> EditGroup:
    """The journaled state of the image as one edit: cells deleted or changed
    since are taken out, the journaled versions of changed and added cells put in."""
    replaced = set(entry.deleted) | set(entry.changed)
    present = {cell.index for cell in image.cells}
    edits: list[Edit] = [
        DeleteCell.of(image, index) for index in sorted(replaced & present)
    ]
    edits += [AddCell(cell) for cell in entry.cells]
    return EditGroup(
        edits, f"Restore the unsaved edits of {entry.time} ({entry.summary})"
    )
