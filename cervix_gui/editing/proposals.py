"""The Mask R-CNN's cells as proposals: click one where no annotated cell is, then
accept it (it becomes an annotation cell with the model's outline and nucleus,
origin model, review state accepted) or reject it (it is hidden, and the run's
decisions file remembers it as rejected so the next review does not bring it
back). Both are undo steps like any edit.

The instances layer shows every predicted cell except those rejected and those
already accepted; a predicted cell that overlaps an annotation cell is that cell,
drawn for comparison, and not a proposal.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QPointF, Signal

from engine.annotations import GeometryError, Origin, ReviewState
from engine.annotations.edit_tools import new_cell_edit
from engine.errors import CervixError
from engine.images.cell_outlines import CellOutlines
from engine.review import (
    ReviewError,
    ReviewSource,
    image_candidates,
    load_decisions,
    reject,
)
from engine.review.ranking import link_predictions, most_probable

log = logging.getLogger(__name__)

ALL_DECIDED = "Every cell the model found on this image was accepted or rejected."


class ProposalController(QObject):
    """Which predicted cells are shown and chosen, and deciding about them."""

    selection_changed = Signal()

    def __init__(self, window, session):
        super().__init__(window)
        self.window = window
        self.session = session
        self.stored = None  # StoredPredictions of the shown image
        self.selected: int | None = None  # the chosen predicted cell's id
        self.shown = []  # the PredictedCells drawn
        self._outlines: CellOutlines | None = None
        self._linked: set[int] = set()  # predicted ids that are annotation cells

    @property
    def viewer(self):
        return self.window.viewer

    def set_predictions(self, stored) -> None:
        """The predictions of the shown image were read: show those undecided."""
        self.stored = stored
        self.selected = None
        self.refresh()
        self.selection_changed.emit()

    def clear(self) -> None:
        self.stored, self.shown, self._outlines = None, [], None
        self.clear_selection()

    def _current(self) -> bool:
        record, stored = self.viewer.record, self.stored
        return (
            record is not None
            and stored is not None
            and stored.predictions is not None
            and stored.image_key == record.key
        )

    def refresh(self) -> None:
        """Draw the predicted cells again, leaving out the decided ones."""
        if not self._current():
            return
        record, stored = self.viewer.record, self.stored
        cells = stored.predictions.cells
        decisions = {}
        store = self.window.prediction_store()
        try:
            decisions = load_decisions(store, stored.run, record.key)
        except CervixError as error:
            self.session.message.emit(error.user_message())
        links = link_predictions(cells, record.cells)
        origin_of = {cell.index: cell.origin for cell in record.cells}
        hidden = {
            predicted_id
            for predicted_id, decision in decisions.items()
            if decision.review_state is ReviewState.REJECTED
        }
        hidden |= {
            predicted_id
            for predicted_id, (index, _) in links.items()
            if origin_of.get(index) is Origin.MODEL
        }
        self._linked = set(links)
        self.shown = [cell for cell in cells if cell.id not in hidden]
        palette = self.window.class_palette
        names = [cell_class.name for cell_class in palette.scheme.classes]
        outlines = None
        if self.shown:
            outlines = CellOutlines.from_predictions(self.shown, names)
            outlines.prepare()
        self._outlines = outlines
        self.viewer.layers.show_predicted_cells(
            outlines,
            palette,
            self.viewer.content_rect(),
            stored.reason if not cells else ALL_DECIDED,
        )
        if self.selected not in self.proposal_ids():
            self.selected = None
        self._highlight()

    def proposal_ids(self) -> set[int]:
        """The predicted cells shown that are not an annotation cell already."""
        return {cell.id for cell in self.shown} - self._linked

    # -- choosing ----------------------------------------------------------------------

    def proposal_at(self, point: QPointF) -> int | None:
        layer = self.viewer.layers["instances"]
        if self._outlines is None or not layer.isVisible() or not layer.available:
            return None
        row = self._outlines.row_at(point.x(), point.y())
        if row is None:
            return None
        predicted_id = int(self._outlines.cell_ids[row])
        return predicted_id if predicted_id in self.proposal_ids() else None

    def select_at(self, point: QPointF) -> bool:
        """Choose the proposal under `point`; False when there is none."""
        predicted_id = self.proposal_at(point)
        if predicted_id != self.selected:
            self.selected = predicted_id
            self._highlight()
            self.selection_changed.emit()
        if predicted_id is not None:
            cell = self._cell(predicted_id)
            self.session.message.emit(
                f"Predicted cell {predicted_id} ({self._class_of(cell)}, score "
                f"{cell.score:.2f}): A accepts it as a cell, R rejects it."
            )
        return predicted_id is not None

    def clear_selection(self) -> None:
        if self.selected is not None:
            self.selected = None
            self._highlight()
            self.selection_changed.emit()

    def _highlight(self) -> None:
        rows = []
        if self.selected is not None and self._outlines is not None:
            row = self._outlines.row_of(self.selected)
            rows = [] if row is None else [row]
        self.viewer.layers["instances"].set_selected_rows(rows)

    def _cell(self, predicted_id: int):
        return next(cell for cell in self.shown if cell.id == predicted_id)

    def _class_of(self, cell) -> str:
        record = self.viewer.record
        return (
            cell.predicted_class
            or most_probable(cell.probabilities)
            or record.folder_class
        )

    # -- deciding ----------------------------------------------------------------------

    def accept(self) -> bool:
        """The chosen proposal becomes an annotation cell, accepted, of the class
        the model gave it (the image's folder class when it gave none)."""
        if self.selected is None:
            self.session.message.emit("Click a predicted cell first to accept it.")
            return False
        record, predicted_id = self.viewer.record, self.selected
        cell = self._cell(predicted_id)
        class_name = self._class_of(cell)
        fields = {
            "origin": Origin.MODEL,
            "review_state": ReviewState.ACCEPTED,
            "score": cell.score,
            "probabilities": None
            if cell.probabilities is None
            else dict(cell.probabilities),
        }
        text = f"Accept predicted cell {predicted_id} as {class_name}"
        # Through the editing tools' own checks, so the model's outline is held at
        # the precision its .dat file will store and its nucleus fits inside it.
        try:
            edit = new_cell_edit(
                record, cell.cytoplasm, cell.nucleus, class_name, **fields
            )
            left_out = ""
        except GeometryError as error:
            if cell.nucleus is None:
                self.session.message.emit(error.user_message())
                return False
            edit, left_out = None, error.message
        if edit is None:
            done = self.session.attempt(
                lambda: new_cell_edit(
                    record, cell.cytoplasm, None, class_name, **fields
                ),
                text,
            )
        else:
            done = edit if self.session.do(edit, text) else None
        if done is None:
            return False
        self.selected = None
        self.viewer.selection.select(record.key, (done.cell.index,))
        self.session.message.emit(
            f"Predicted cell {predicted_id} is now cell {done.cell.index}"
            + (f", without its nucleus: {left_out}." if left_out else ".")
        )
        self.selection_changed.emit()
        return True

    def reject(self) -> bool:
        """The chosen proposal is not a cell: hide it and remember the decision."""
        if self.selected is None:
            self.session.message.emit("Click a predicted cell first to reject it.")
            return False
        predicted_id, stored = self.selected, self.stored
        dataset = self.session.dataset

        def decide():
            source = ReviewSource(
                dataset.scheme, dataset, self.window.prediction_store(), stored.run
            )
            candidate = next(
                (
                    candidate
                    for candidate in image_candidates(source, stored.image_key)
                    if candidate.annotation_index is None
                    and candidate.predicted_id == predicted_id
                ),
                None,
            )
            if candidate is None:
                raise ReviewError(
                    f"{stored.image_key}: predicted cell {predicted_id} is an "
                    "annotation cell now; select that cell to change it"
                )
            return reject(candidate, dataset, source.store)

        if (
            self.session.attempt(decide, f"Reject predicted cell {predicted_id}")
            is None
        ):
            return False
        self.selected = None
        self.selection_changed.emit()
        self.session.message.emit(
            f"Predicted cell {predicted_id} rejected; the run remembers it."
        )
        return True
