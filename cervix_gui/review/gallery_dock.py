"""The review gallery: thumbnails of the cells the classifier finds most abnormal
(or the training queue's cells), each linked to its place on the image, triaged
from the keyboard as undoable edits.

Keys while the gallery has focus: A accepts the model's class, R rejects the
cell, 1-5 give it the scheme's class 1-5 (corrected), N or Space goes to the next
cell, P or Shift+Space to the previous one. In the viewer, A, R and the digits
act on a chosen model proposal or else on the selected cells, and ] and [ go to
the next and previous cell of this queue (see viewer_triage.py).
"""

from __future__ import annotations

import logging
from itertools import groupby

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPointF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.review.context import CLASS_KEYS, review_source, scope_keys
from cervix_gui.review.gallery_model import THUMBNAIL_PX, CandidateModel
from cervix_gui.review.slide_decisions import SlideDecisions
from engine.errors import CervixError
from engine.review import (
    ReviewCandidate,
    accept,
    collect_candidates,
    reclassify,
    region_reader_for,
    reject,
    training_queue,
)

log = logging.getLogger(__name__)

MESSAGE_MS = 8000
ALL_CLASSES = "All classes"
SCOPES = (
    ("Shown image", "image"),
    ("Selected images", "selected"),
    ("Dataset or slide", "all"),
)
QUEUES = (("Most suspicious first", "suspicious"), ("Training queue", "training"))
COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)
TRIAGE_KEYS = {Qt.Key.Key_A, Qt.Key.Key_R, Qt.Key.Key_N, Qt.Key.Key_P, *CLASS_KEYS}


def _grouped(pairs: list[tuple]) -> list[tuple]:
    """(candidate, note) pairs with each predicted class's cells together, in the
    order of each class's first cell; the order within a class is kept."""
    first_place: dict = {}
    for place, (candidate, _note) in enumerate(pairs):
        first_place.setdefault(candidate.predicted_class, place)
    return sorted(pairs, key=lambda pair: first_place[pair[0].predicted_class])


def _group_sizes(candidates) -> list[tuple[str | None, int]]:
    """(class, cells) of each run of one predicted class, in the gallery's order."""
    runs = groupby(candidates, key=lambda candidate: candidate.predicted_class)
    return [(name, sum(1 for _ in run)) for name, run in runs]


class GalleryView(QListView):
    """The thumbnails, in rows; takes the triage keys before the window's
    shortcuts do, so A, R and the digits act on the gallery's cell."""

    triage_key = Signal(int, object)  # the key and its modifiers

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMBNAIL_PX, THUMBNAIL_PX))
        self.setGridSize(QSize(THUMBNAIL_PX + 16, THUMBNAIL_PX + 44))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)

    @staticmethod
    def _is_triage(event: QKeyEvent) -> bool:
        if event.modifiers() & COMMAND_MODIFIERS:
            return False  # Ctrl+A, Ctrl+S and the like stay the window's
        return event.key() in TRIAGE_KEYS or event.key() == Qt.Key.Key_Space

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and self._is_triage(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if self._is_triage(event):
            self.triage_key.emit(event.key(), event.modifiers())
            event.accept()
            return
        super().keyPressEvent(event)


class ReviewGallery(QWidget):
    """The review queue of the window's dataset or slide as a gallery."""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.source = None
        self.model = CandidateModel(self)
        self._all: list[ReviewCandidate] = []
        self._notes: list[str] = []
        self._reader = None
        self.scope = QComboBox()
        for text, value in SCOPES:
            self.scope.addItem(text, value)
        self.scope.setCurrentIndex(self.scope.findData("all"))
        self.queue = QComboBox()
        for text, value in QUEUES:
            self.queue.addItem(text, value)
        self.class_filter = QComboBox()
        self.class_filter.addItem(ALL_CLASSES)
        self.grouped = QCheckBox("Group by class")
        self.grouped.setToolTip(
            "The cells of each predicted class together, the class of the most "
            "suspicious cell first; each class still ranked"
        )
        self.view = GalleryView()
        self.view.setModel(self.model)
        self.count = QLabel()
        self.keys = QLabel(
            "A accept \u00b7 R reject \u00b7 1-5 class \u00b7 N/Space next \u00b7 "
            "P/Shift+Space previous \u00b7 Ctrl+Z undo \u00b7 Ctrl+S save"
        )
        self.keys.setWordWrap(True)
        choices = QHBoxLayout()
        for widget in (self.scope, self.queue, self.class_filter, self.grouped):
            choices.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addLayout(choices)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.keys)

        self._stale = False
        self._refresh_soon = QTimer(self)
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.setInterval(0)
        self._refresh_soon.timeout.connect(self.refresh)
        self.scope.currentIndexChanged.connect(self.refresh)
        self.queue.currentIndexChanged.connect(self.refresh)
        self.class_filter.currentIndexChanged.connect(self._filter)
        self.grouped.toggled.connect(self._filter)
        self.view.clicked.connect(self._on_clicked)
        self.view.triage_key.connect(self._on_key)
        session = window.editing.session
        session.cells_changed.connect(self._on_cells_changed)
        self._proposal_to_choose: ReviewCandidate | None = None
        window.predictions.shown.connect(self._on_predictions_shown)
        self.slide_decisions = SlideDecisions(session.group, self)
        self.slide_decisions.changed.connect(self._on_cells_changed)
        self.slide_decisions.message.connect(self._say)

    # -- the queue -----------------------------------------------------------------

    def refresh(self) -> None:
        """Collect the queue again (after opening something, or an edit)."""
        row = max(self.view.currentIndex().row(), 0)
        try:
            self.source = review_source(self.window)
        except CervixError as error:
            self._say(error.user_message())
            self.source = None
        if self._reader is not None:
            self._reader.close()
        self._reader = None if self.source is None else region_reader_for(self.source)
        self._all, self._notes = [], []
        if self.source is not None:
            keys = scope_keys(self.window, self.source, self.scope.currentData())
            try:
                if self.queue.currentData() == "training":
                    queue = training_queue(self.source, keys)
                    self._all = [item.candidate for item in queue]
                    self._notes = [", ".join(item.reasons) for item in queue]
                else:
                    self._all = collect_candidates(self.source, keys)
                    self._notes = [""] * len(self._all)
            except CervixError as error:
                self._say(error.user_message())
        self._fill_classes()
        self._filter(row=row)

    def _fill_classes(self) -> None:
        chosen = self.class_filter.currentText()
        names = [] if self.source is None else list(self.source.scheme.names)
        present = {c.predicted_class for c in self._all if c.predicted_class}
        names += sorted(present - set(names))
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem(ALL_CLASSES)
        self.class_filter.addItems(names)
        self.class_filter.setCurrentText(chosen if chosen in names else ALL_CLASSES)
        self.class_filter.blockSignals(False)

    def _filter(self, *_args, row: int = 0) -> None:
        chosen = self.class_filter.currentText()
        pairs = [
            (candidate, note)
            for candidate, note in zip(self._all, self._notes, strict=True)
            if chosen == ALL_CLASSES or candidate.predicted_class == chosen
        ]
        if self.grouped.isChecked():
            pairs = _grouped(pairs)
        self.model.set_candidates(
            [pair[0] for pair in pairs], self._reader, [pair[1] for pair in pairs]
        )
        shown = self.model.rowCount()
        text = f"{shown} cells to review"
        if self.grouped.isChecked() and shown:
            text += ": " + ", ".join(
                f"{name or 'no class'} {count}"
                for name, count in _group_sizes(self.model.candidates)
            )
        self.count.setText(text)
        if shown:
            self.view.setCurrentIndex(self.model.index(min(row, shown - 1)))

    def _on_cells_changed(self, image_key: str) -> None:
        self.model.forget_thumbnails(image_key)
        self.refresh_soon()

    def refresh_soon(self) -> None:
        """Collect the queue again once a burst of edits has ended, and only
        while the gallery is in sight (else when it comes into sight)."""
        if self.isVisible():
            self._refresh_soon.start()
        else:
            self._stale = True

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self._refresh_soon.start()

    # -- going to a cell -----------------------------------------------------------

    def current(self) -> ReviewCandidate | None:
        index = self.view.currentIndex()
        return index.data(Qt.ItemDataRole.UserRole) if index.isValid() else None

    def _on_clicked(self, index: QModelIndex) -> None:
        self.go_to(index.row())

    def go_to(self, row: int) -> None:
        """Make cell `row` the gallery's and the viewer's: show its image, centre
        the view on it and select it."""
        if not 0 <= row < self.model.rowCount():
            return
        self.view.setCurrentIndex(self.model.index(row))
        candidate = self.model.candidates[row]
        window, viewer = self.window, self.window.viewer
        record = window.current_record()
        if window.dataset is not None and (
            record is None or record.key != candidate.image_key
        ):
            window.show_image(candidate.image_key)
        if candidate.annotation_index is not None:
            viewer.selection.select(candidate.image_key, (candidate.annotation_index,))
            viewer.centre_on_cell(candidate.annotation_index)
        else:
            viewer.selection.clear()
            viewer.view.centre_on(QPointF(*candidate.centre))
            self._proposal_to_choose = candidate
            self._choose_proposal()
        self._say(
            f"{candidate.image_key}, {candidate.ref}: "
            f"{candidate.predicted_class or 'no class'}, abnormal "
            f"{candidate.abnormal_probability:.2f}"
        )

    def _choose_proposal(self) -> None:
        """Make the gallery's model-only cell the viewer's chosen proposal, so
        the viewer's A and R act on it; its image's predictions may still be
        on their way (then this runs again when they are shown)."""
        candidate = self._proposal_to_choose
        proposals = getattr(self.window.editing, "proposals", None)
        record = self.window.current_record()
        if candidate is None or proposals is None or record is None:
            return
        stored = proposals.stored
        if record.key != candidate.image_key or stored is None:
            return
        if stored.image_key != candidate.image_key:
            return
        self._proposal_to_choose = None
        proposals.select_at(QPointF(*candidate.centre))
        if proposals.selected != candidate.predicted_id:
            # Another proposal lies over its centre: choose none rather than it.
            proposals.clear_selection()

    def _on_predictions_shown(self, _stored) -> None:
        # After the editing's own handler, which forgets the chosen proposal.
        QTimer.singleShot(0, self._choose_proposal)

    def step(self, by: int) -> None:
        """Go to the next (`by` 1) or previous (-1) cell of the queue."""
        if self.model.rowCount():
            row = self.view.currentIndex().row() + by
            self.go_to(max(0, min(row, self.model.rowCount() - 1)))

    # -- triage --------------------------------------------------------------------

    def _on_key(self, key: int, modifiers) -> None:
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        if key == Qt.Key.Key_N or (key == Qt.Key.Key_Space and not shift):
            self.step(1)
        elif key == Qt.Key.Key_P or key == Qt.Key.Key_Space:
            self.step(-1)
        elif key == Qt.Key.Key_A:
            self.decide(lambda c, d, s: accept(c, d, s))
        elif key == Qt.Key.Key_R:
            self.decide(lambda c, d, s: reject(c, d, s))
        elif key in CLASS_KEYS:
            names = self.source.scheme.names if self.source else []
            position = CLASS_KEYS[key]
            if position < len(names):
                name = names[position]
                self.decide(lambda c, d, s: reclassify(c, name, d, s))

    def decide(self, make) -> bool:
        """Make a triage decision on the gallery's cell, as an undo step of its
        image; the cell leaves the queue."""
        candidate = self.current()
        if candidate is None:
            self._say("No cell to decide about: the queue is empty.")
            return False
        row = self.view.currentIndex().row()
        self.go_to(row)
        window = self.window
        session = window.editing.session
        store = window.prediction_store()
        if session.dataset is None:
            # A slide on its own: the decision goes to the run's decisions file
            # at once, and onto the slide's own undo history.
            try:
                triage = make(candidate, None, store)
                self.slide_decisions.do(triage)
            except CervixError as error:
                self._say(error.user_message())
                return False
            self._say(f"{triage.text} (kept in the run's decisions file)")
            self.refresh()
            return True
        done = session.attempt(lambda: make(candidate, session.dataset, store))
        if done is None:
            return False
        self._say(f"{done.text}; Ctrl+Z takes it back, Ctrl+S saves it.")
        self.refresh()
        if self.model.rowCount():
            self.go_to(min(row, self.model.rowCount() - 1))
        self.view.setFocus()
        return True

    def _say(self, text: str) -> None:
        self.window.status.showMessage(text, MESSAGE_MS)

    def close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
