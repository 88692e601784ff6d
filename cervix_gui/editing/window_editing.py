"""Editing in the main window: the session, the tools, the Edit menu and the
proposals put together, and what the window shows of them: the outlines redrawn
after each edit, [*] in the title and a dot in the dataset browser for unsaved
edits, a read-only banner when another editor holds the dataset, the question
before unsaved edits would be lost, and the offer to restore a crash's edits.

The window calls `set_dataset`, `set_single_image`, `show_image`,
`predictions_shown` and `may_leave`; everything else happens from here.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QToolBar

from cervix_gui.editing.box_select_tool import BoxSelectTool
from cervix_gui.editing.dialogs import (
    RecoveryDialog,
    ask_about_unsaved,
    report_save_failure,
)
from cervix_gui.editing.draw_tool import DrawTool
from cervix_gui.editing.edit_menu import EditMenu
from cervix_gui.editing.edit_session import EditSession
from cervix_gui.editing.proposals import ProposalController
from cervix_gui.editing.vertex_tool import VertexTool
from engine.annotations import Dataset, ImageRecord, ReviewState
from engine.annotations.edits import DeleteCell, EditGroup, SetClass, SetReviewState

log = logging.getLogger(__name__)

REMEASURE_DELAY_MS = 400  # measure once a burst of edits has ended
MESSAGE_MS = 15000


def _count(count: int, noun: str) -> str:
    """'1 cell', '3 cells'."""
    return f"1 {noun}" if count == 1 else f"{count} {noun}s"


class WindowEditing(QObject):
    """Correcting the shown image's cells in a MainWindow."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = EditSession(self)
        self.proposals = ProposalController(window, self.session)
        self.tools = {
            "edit": VertexTool(self.session, self.proposals),
            "box": BoxSelectTool(self.session),
            "draw": DrawTool(self.session),
            "nucleus": DrawTool(self.session, nucleus_only=True),
        }
        self.menu = EditMenu(window, self)
        self.banner = QToolBar("Read-only", window)
        self.banner.setObjectName("readOnlyBanner")
        self.banner.setMovable(False)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_text.setStyleSheet(
            "QLabel { background: #fff1c2; color: #5c4100; padding: 6px 10px; }"
        )
        self.banner.addWidget(self.banner_text)
        window.addToolBarBreak()
        window.addToolBar(self.banner)
        self.banner.hide()
        self._remeasure = QTimer(self)
        self._remeasure.setSingleShot(True)
        self._remeasure.setInterval(REMEASURE_DELAY_MS)
        self._remeasure.timeout.connect(self._measure_again)
        # Redrawn once the event loop runs again: a burst of changes (undoing a
        # thousand steps at once from the History) redraws once, not per step.
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(0)
        self._redraw.timeout.connect(self._redraw_cells)

        self.session.cells_changed.connect(self._on_cells_changed)
        self.session.saved.connect(lambda key: window.browser.refresh_marks([key]))
        self.session.modified_changed.connect(window.setWindowModified)
        self.session.message.connect(
            lambda text: window.status.showMessage(text, MESSAGE_MS)
        )
        self.session.read_only_changed.connect(self._on_read_only)
        window.viewer.selection.selection_changed.connect(self._update_actions)
        self.proposals.selection_changed.connect(self._update_actions)
        self.use_tool("edit")

    @property
    def tool(self):
        return self.window.viewer.view.tool

    def use_tool(self, name: str) -> None:
        """Make tool `name` ("edit", "box", "draw", "nucleus") the viewer's."""
        tool = self.tools[name]
        if self.tool is not tool:
            self.window.viewer.set_tool(tool)
        self.menu.tool_actions[name].setChecked(True)

    # -- what the window tells us ------------------------------------------------------

    def set_dataset(self, dataset: Dataset) -> None:
        """A dataset was opened: edit it (or say why not) and offer to restore the
        edits a crash left unsaved."""
        self.session.open_dataset(dataset)
        self.menu.set_classes(self.window.class_palette)
        self._offer_recovery()
        self._update_actions()

    def set_single_image(self, record: ImageRecord) -> None:
        """An image or slide opened on its own has no dataset to save to."""
        self.session.close_dataset()
        self.menu.set_classes(self.window.class_palette)
        self._say_after_opening(
            "Cells of an image opened on its own cannot be edited; open its "
            "dataset folder to correct them."
        )
        self._update_actions()

    def show_image(self, record: ImageRecord) -> None:
        """`record` is now the shown image: its undo history becomes the menu's."""
        dataset = self.session.dataset
        in_dataset = dataset is not None and record.key in {
            image.key for image in dataset.images
        }
        self.session.show_image(record.key if in_dataset else None)
        self.tool.reset()
        self.proposals.clear()
        self._update_actions()

    def predictions_shown(self, stored) -> None:
        self.proposals.set_predictions(stored)

    def may_leave(self, leaving: str = "closing") -> bool:
        """Whether the unsaved edits may be left behind now: saved, discarded, or
        none; False when the user cancels or the save fails."""
        keys = self.session.unsaved_keys()
        if keys and not self.window.errors_in_dialogs:
            return self._leave_unsaved_in_journal(keys, leaving)
        if keys:
            choice = ask_about_unsaved(self.window, keys, leaving)
            if choice == "cancel":
                return False
            if choice == "save" and not self.save():
                return False
            if choice == "discard":
                self.session.discard_unsaved()
                log.info("Unsaved edits of %d images discarded", len(keys))
        return True

    def _leave_unsaved_in_journal(self, keys: list[str], leaving: str) -> bool:
        """A window that must not wait on a question (a screenshot or automation
        run) neither saves nor discards: the edits stay in the crash journal and
        are offered back when the dataset opens again. Stays when even the
        journal cannot keep them."""
        lost = self.session.keep_unsaved_in_journal()
        if lost:
            text = (
                f"Not {leaving}: the unsaved edits of {', '.join(lost)} could not "
                "be kept in the journal; save them first."
            )
            log.error(text)
            self.window.status.showMessage(text, MESSAGE_MS)
            return False
        log.warning(
            "%s with unsaved edits of %s, asking nothing (errors_in_dialogs is "
            "off); they stay in %s and are offered back on the next opening",
            leaving.capitalize(),
            ", ".join(keys),
            self.session.journal.folder,
        )
        return True

    def busy(self) -> bool:
        """Whether the edited cells are still to be redrawn or measured again."""
        return self._remeasure.isActive() or self._redraw.isActive()

    def close(self) -> None:
        """The window closes: give the dataset's lock back."""
        self.session.close_dataset()

    # -- actions -----------------------------------------------------------------------

    def save(self) -> bool:
        """Save every image's unsaved edits; say what was written or why not."""
        outcome = self.session.save_all()
        if outcome.ok:
            self.window.status.showMessage(outcome.summary(), MESSAGE_MS)
            return True
        message = outcome.error.user_message()
        if outcome.saved:
            message = f"{outcome.summary()} But: {message}"
        self.window.status.showMessage(f"Not saved: {message}", MESSAGE_MS)
        if self.window.errors_in_dialogs:
            report_save_failure(self.window, message)
        return False

    def delete_selected(self) -> None:
        """Delete the tool's chosen vertices, or a chosen proposal (rejecting it),
        or the selected cells."""
        if self.tool.delete_selection():
            return
        if self.proposals.selected is not None:
            self.proposals.reject()
            return
        record, cells = self.session.image, self._selection()
        if record is None or not cells:
            self.window.status.showMessage("Select the cells to delete.", MESSAGE_MS)
            return
        text = (
            f"Delete cell {cells[0]}"
            if len(cells) == 1
            else f"Delete {_count(len(cells), 'cell')}"
        )
        self.session.attempt(
            lambda: EditGroup([DeleteCell.of(record, index) for index in cells], text),
            text,
        )

    def class_key(self, class_name: str, number: int) -> None:
        """Number key `number`: give the selected cells `class_name`."""
        if number == 1 and not (self.session.editable and self._selection()):
            self.window.actual_size_action.trigger()
            return
        self.set_class(class_name)

    def set_class(self, class_name: str) -> None:
        """Give the selected cells `class_name`; the changed ones are marked
        corrected, as a reviewer's reclassification is."""
        record, cells = self.session.image, self._selection()
        if record is None or not cells:
            self.window.status.showMessage(
                "Select the cells to give a class first.", MESSAGE_MS
            )
            return
        changing = [i for i in cells if record.cell(i).class_name != class_name]
        label = self.window.class_palette.label(class_name)
        if not changing:
            already = (
                f"Cell {cells[0]} is" if len(cells) == 1 else f"All {len(cells)} are"
            )
            self.window.status.showMessage(f"{already} already {label}.", MESSAGE_MS)
            return
        what = (
            f"cell {changing[0]}"
            if len(changing) == 1
            else _count(len(changing), "cell")
        )
        text = f"Set the class of {what} to {label}"
        self.session.attempt(
            lambda: EditGroup(
                [
                    SetClass.of(record, changing, class_name),
                    SetReviewState.of(record, changing, ReviewState.CORRECTED),
                ],
                text,
            ),
            text,
        )

    def select_all(self) -> None:
        record = self.window.viewer.record
        if record is not None:
            self.window.viewer.selection.select(
                record.key, [cell.index for cell in record.cells]
            )

    def _selection(self) -> list[int]:
        record, selection = self.session.image, self.window.viewer.selection
        if record is None or selection.image_key != record.key:
            return []
        present = {cell.index for cell in record.cells}
        return [index for index in selection.cells if index in present]

    # -- keeping the window in step ----------------------------------------------------

    def _on_cells_changed(self, key: str) -> None:
        self.window.browser.refresh_marks([key])
        viewer = self.window.viewer
        if viewer.record is None or viewer.record.key != key:
            return
        selection = viewer.selection
        if selection.image_key == key:
            selection.select(key, self._selection())
        self.tool.cells_changed()
        self._redraw.start()

    def _redraw_cells(self) -> None:
        if self.window.viewer.record is None:
            return
        self.window.viewer.annotations_changed()
        self.proposals.refresh()
        self._remeasure.start()
        self._update_actions()

    def _measure_again(self) -> None:
        record = self.window.viewer.record
        if record is not None:
            # The measuring worker gets its own list: later edits cannot change
            # it while it is read.
            self.window.cells_edited(
                dataclasses.replace(record, cells=list(record.cells))
            )

    def _on_read_only(self, reason: str) -> None:
        self.banner_text.setText(reason)
        self.banner.setVisible(bool(reason))
        if reason:
            self.use_tool("edit")
        self._update_actions()

    def _update_actions(self, *_) -> None:
        record = self.window.viewer.record
        self.menu.update(
            editable=self.session.editable,
            has_cells=record is not None and bool(record.cells),
            has_proposal=self.proposals.selected is not None,
        )

    def _offer_recovery(self) -> None:
        session = self.session
        entries = session.pending_journal()
        for problem in session.journal.problems if session.journal else []:
            self._say_after_opening(f"Unsaved edits not restored: {problem}")
        if not entries:
            return
        if not self.window.errors_in_dialogs:
            self._say_after_opening(
                f"Unsaved edits of {_count(len(entries), 'image')} are left from a "
                "window that ended without saving; reopen the dataset to restore "
                "them."
            )
            return
        conflicts = {}
        for entry in entries:
            reason = session.journal_conflict(entry)
            if reason is not None:
                conflicts[entry.path] = reason
        dialog = RecoveryDialog(entries, conflicts, self.window)
        dialog.exec()
        if dialog.choice == "restore":
            restorable = [entry for entry in entries if entry.path not in conflicts]
            failed = session.restore(restorable)
            problems = failed + list(conflicts.values())
            restored = len(restorable) - len(failed)
            parts = []
            if restored:
                parts.append(
                    f"Restored the unsaved edits of {_count(restored, 'image')}; "
                    "save to keep them."
                )
            if problems:
                parts.append("Not restored: " + "; ".join(problems) + ".")
                for problem in problems:
                    log.warning("Journal not restored: %s", problem)
            self._say_after_opening(" ".join(parts))
        elif dialog.choice == "discard":
            session.discard_journal(entries)
            self._say_after_opening("The unsaved edits were discarded.")

    def _say_after_opening(self, text: str) -> None:
        """Show `text` in the status bar once the first image is shown (showing
        an image clears the status bar)."""
        status = self.window.status
        QTimer.singleShot(0, self, lambda: status.showMessage(text, MESSAGE_MS))
