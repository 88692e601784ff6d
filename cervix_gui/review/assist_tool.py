"""Model-assisted outlines: click inside a cell nobody has outlined yet, and the
model's outline of it (the run's predicted cell, else its U-Net region) is shown
as a proposal; Enter adds it as a cell (an undo step), Esc drops it. The added
cell is selected, for the editing tool to adjust its vertices."""

from __future__ import annotations

import logging

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QPainter

from cervix_gui.editing.tool_base import EditingTool, cosmetic_pen, polygon
from cervix_gui.review.context import current_run
from cervix_gui.viewer.tools import CLICK_TRAVEL_PX, ToolEvent
from engine.annotations import Origin, ReviewState
from engine.annotations.edit_tools import new_cell_edit
from engine.errors import CervixError
from engine.review import Proposal, propose_outline
from engine.review.ranking import most_probable

log = logging.getLogger(__name__)

PROPOSAL_COLOUR = QColor(255, 200, 0)
NUCLEUS_COLOUR = QColor(31, 119, 180)


class AssistTool(EditingTool):
    """Click a cell for the model's outline of it; Enter accepts, Esc rejects.
    An editing tool (a `ViewerTool`), so the window's editing keeps it told of
    edits; an edit of the image drops a proposal shown."""

    name = "assist"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, window):
        super().__init__(window.editing.session)
        self.window = window
        self.proposal: Proposal | None = None
        self._pressed_at: QPoint | None = None

    def deactivate(self) -> None:
        self.proposal = None
        super().deactivate()

    def reset(self) -> None:
        self.proposal = None
        super().reset()

    def mouse_press(self, event: ToolEvent) -> bool:
        if event.button == Qt.MouseButton.LeftButton:
            self._pressed_at = QPoint(event.view_pos)
        return False

    def mouse_release(self, event: ToolEvent) -> bool:
        pressed_at, self._pressed_at = self._pressed_at, None
        if pressed_at is None or event.button != Qt.MouseButton.LeftButton:
            return False
        if (event.view_pos - pressed_at).manhattanLength() > CLICK_TRAVEL_PX:
            return False
        self.propose_at(event.image_pos.x(), event.image_pos.y())
        return True

    def propose_at(self, x: float, y: float) -> Proposal | None:
        """Ask the models for the outline of the cell at (x, y) and show it."""
        viewer = self.viewer or self.window.viewer
        record = viewer.record
        self.proposal = None
        if record is None:
            return None
        if viewer.cell_at(QPointF(x, y)) is not None:
            self._say("This cell has an outline already; click an unoutlined cell.")
            self._update()
            return None
        store, run = self.window.prediction_store(), current_run(self.window)
        if store is None or run is None:
            self._say("Run the models on this image first: no run to ask.")
            return None
        size = record.size or (int(x) + 1, int(y) + 1)
        try:
            self.proposal = propose_outline((x, y), record.key, store, run, size)
        except CervixError as error:
            self._say(error.user_message())
        if self.proposal is None:
            self._say("The models see no cell here; draw it with the draw tool.")
        else:
            self._say(
                f"Proposed outline ({self.proposal.source}): Enter adds it as a "
                "cell, Esc drops it."
            )
        self._update()
        return self.proposal

    def key_press(self, event: ToolEvent) -> bool:
        if self.proposal is None:
            return False
        if event.key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept()
            return True
        if event.key == Qt.Key.Key_Escape:
            self.proposal = None
            self._say("Proposal dropped.")
            self._update()
            return True
        return False

    def accept(self) -> bool:
        """Add the shown proposal as an accepted cell drawn by a model."""
        proposal, record = self.proposal, self.window.viewer.record
        if proposal is None or record is None:
            return False
        class_name = (
            proposal.predicted_class
            or most_probable(proposal.probabilities)
            or record.folder_class
        )
        fields = {
            "origin": Origin.MODEL,
            "review_state": ReviewState.ACCEPTED,
            "score": proposal.score,
            "probabilities": None
            if proposal.probabilities is None
            else dict(proposal.probabilities),
        }
        done = self.session.attempt(
            lambda: new_cell_edit(
                record, proposal.cytoplasm, proposal.nucleus, class_name, **fields
            ),
            f"Add the model's outline as a {class_name} cell",
        )
        if done is None:
            return False
        self.proposal = None
        self.window.viewer.selection.select(record.key, (done.cell.index,))
        self._say(
            f"Added cell {done.cell.index}; the edit tool (E) adjusts its outline."
        )
        self._update()
        return True

    def paint(self, painter: QPainter, zoom: float) -> None:
        if self.proposal is None:
            return
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for outline, colour in (
            (self.proposal.cytoplasm, PROPOSAL_COLOUR),
            (self.proposal.nucleus, NUCLEUS_COLOUR),
        ):
            if outline is None or len(outline) < 3:
                continue
            shape = polygon([tuple(point) for point in outline])
            painter.setPen(cosmetic_pen(QColor(0, 0, 0, 170), 3.5))
            painter.drawPolygon(shape)
            painter.setPen(cosmetic_pen(colour, 2.0, Qt.PenStyle.DashLine))
            painter.drawPolygon(shape)

    def _update(self) -> None:
        viewer = self.viewer or self.window.viewer
        viewer.view.viewport().update()

    def _say(self, text: str) -> None:
        self.window.status.showMessage(text, 10000)
