"""Triage from the viewer: with annotation cells selected (and no model proposal
chosen), A accepts the model's class for them and R rejects them; with a model
proposal chosen, 1-5 add it as a cell of that class; each an undo step. ] and [
go to the next and the previous cell of the gallery's queue. The Edit menu's
keys do the rest: A and R on a chosen proposal, digits on selected cells."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from cervix_gui.review.context import CLASS_KEYS, review_source
from engine.annotations.edits import EditGroup
from engine.review import ReviewError, accept, image_candidates, reclassify, reject

log = logging.getLogger(__name__)

MESSAGE_MS = 8000
NEXT_KEY, PREVIOUS_KEY = "]", "["
COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
    | Qt.KeyboardModifier.ShiftModifier
)


class ViewerTriage(QObject):
    """The review keys of the viewer, beside the editing keys."""

    def __init__(self, window, gallery):
        super().__init__(window)
        self.window = window
        self.gallery = gallery
        self.next_action = self._action(
            "&Next suspicious cell", NEXT_KEY, lambda: self.step(1)
        )
        self.previous_action = self._action(
            "&Previous suspicious cell", PREVIOUS_KEY, lambda: self.step(-1)
        )
        window.viewer.view.installEventFilter(self)

    def _action(self, text: str, key: str, slot) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(key))
        action.setToolTip(f"{text.replace('&', '')} of the review queue ({key})")
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    # -- keys ----------------------------------------------------------------------

    def _takes(self, event) -> bool:
        """Whether the key is the review's: A or R for the selected annotation
        cells (the Edit menu's A and R act on a chosen model proposal, and only
        when there is one), a digit for the chosen proposal (the Edit menu's
        digits act on selected annotation cells)."""
        if event.modifiers() & COMMAND_MODIFIERS:
            return False
        chosen = self.window.editing.proposals.selected
        if event.key() in CLASS_KEYS:
            return chosen is not None and self._class_for(event.key()) is not None
        if event.key() not in (Qt.Key.Key_A, Qt.Key.Key_R):
            return False
        return chosen is None and bool(self._selected_cells())

    def _class_for(self, key: int) -> str | None:
        names = self.window.class_palette.scheme.names
        position = CLASS_KEYS[key]
        return names[position] if position < len(names) else None

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.ShortcutOverride and self._takes(event):
            event.accept()
            return True
        if kind == QEvent.Type.KeyPress and self._takes(event):
            if event.key() == Qt.Key.Key_A:
                self.decide(accept, "Accept the model's class for")
            elif event.key() == Qt.Key.Key_R:
                self.decide(reject, "Reject")
            else:
                self.reclassify_proposal(self._class_for(event.key()))
            return True
        return False

    # -- deciding ------------------------------------------------------------------

    def _selected_cells(self) -> list[int]:
        session, selection = self.window.editing.session, self.window.viewer.selection
        record = session.image
        if record is None or selection.image_key != record.key:
            return []
        present = {cell.index for cell in record.cells}
        return [index for index in selection.cells if index in present]

    def decide(self, make, verb: str) -> bool:
        """Accept or reject the selected annotation cells, as one undo step."""
        session = self.window.editing.session
        cells = self._selected_cells()
        if not cells:
            self._say("Select the cells to decide about first.")
            return False
        key = session.image.key

        def build() -> EditGroup:
            source = review_source(self.window)
            if source is None:
                raise ReviewError("open a dataset to review its cells")
            by_index = {
                candidate.annotation_index: candidate
                for candidate in image_candidates(source, key)
                if candidate.annotation_index in cells
            }
            edits = [
                make(by_index[index], session.dataset, source.store).edit
                for index in cells
            ]
            what = f"cell {cells[0]}" if len(cells) == 1 else f"{len(cells)} cells"
            return EditGroup(edits, f"{verb} {what}")

        done = session.attempt(build)
        if done is None:
            return False
        self._say(f"{done.text}; ] goes to the next suspicious cell.")
        return True

    def reclassify_proposal(self, class_name: str) -> bool:
        """The chosen model proposal becomes an annotation cell of `class_name`,
        marked corrected, as one undo step."""
        session, proposals = self.window.editing.session, self.window.editing.proposals
        predicted_id, record = proposals.selected, session.image
        if predicted_id is None or record is None:
            return False

        def build():
            source = review_source(self.window)
            candidate = next(
                (
                    c
                    for c in image_candidates(source, record.key)
                    if c.annotation_index is None and c.predicted_id == predicted_id
                ),
                None,
            )
            if candidate is None:
                raise ReviewError(
                    f"{record.key}: predicted cell {predicted_id} is decided already"
                )
            return reclassify(candidate, class_name, session.dataset, source.store)

        done = session.attempt(build)
        if done is None:
            return False
        self._say(f"{done.text}; Ctrl+Z takes it back.")
        return True

    def step(self, by: int) -> None:
        """Show the next (`by` 1) or previous (-1) cell of the gallery's queue,
        counted from the cell selected in the viewer when it is in the queue."""
        gallery = self.gallery
        if gallery.model.rowCount() == 0:
            gallery.refresh()
        candidates = gallery.model.candidates
        if not candidates:
            self._say("No cell left to review in the gallery's queue.")
            return
        selection = self.window.viewer.selection
        shown = {(selection.image_key, index) for index in selection.cells}
        rows = [
            row
            for row, candidate in enumerate(candidates)
            if (candidate.image_key, candidate.annotation_index) in shown
        ]
        if rows:
            row = rows[0] + by
        else:
            # The cell shown left the queue (decided): the gallery's current
            # row already holds the cell after it.
            current = max(gallery.view.currentIndex().row(), 0)
            row = current if by > 0 else current - 1
        gallery.go_to(max(0, min(row, len(candidates) - 1)))

    def _say(self, text: str) -> None:
        self.window.status.showMessage(text, MESSAGE_MS)
