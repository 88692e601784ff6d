"""Undo for the decisions about a slide's cells. A slide opened on its own has no
annotations to edit, so its decisions go to the run's decisions file at once;
each is still an undo step, on a stack of its own in the window's undo group,
the active one while the slide is shown."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from engine.errors import CervixError
from engine.review import Triage

log = logging.getLogger(__name__)


class DecisionCommand(QUndoCommand):
    """One decision about a slide's cell, written to the decisions file on redo
    and taken back from it on undo."""

    def __init__(self, owner: SlideDecisions, triage: Triage):
        super().__init__(triage.text)
        self.owner = owner
        self.triage = triage
        self._applied_before_push = True  # the owner applied it before the push

    def redo(self) -> None:
        if self._applied_before_push:
            self._applied_before_push = False
            return
        self._step(self.triage.apply, "redone")

    def undo(self) -> None:
        self._step(self.triage.revert, "undone")

    def _step(self, step, verb: str) -> None:
        try:
            step(None)
        except (CervixError, OSError) as error:
            # The file kept its state: the command leaves the history rather
            # than claim a decision the file does not hold.
            self.setObsolete(True)
            message = f"{self.text()} could not be {verb}: {error}"
            log.warning("%s", message)
            self.owner.message.emit(message)
            return
        self.owner.changed.emit(self.triage.image_key)


class SlideDecisions(QObject):
    """The undo stack of the shown slide's review decisions."""

    changed = Signal(str)  # the image key whose decisions changed
    message = Signal(str)  # for the status bar

    def __init__(self, group: QUndoGroup, parent=None):
        super().__init__(parent)
        self.group = group
        self.stack = QUndoStack(group)
        self.stack.setUndoLimit(0)
        self.slide_path: Path | None = None

    def show_slide(self, path: Path | None) -> None:
        """The slide `path` is shown (None: a dataset or nothing): its decisions'
        history becomes the Edit menu's; another slide's history is forgotten."""
        if path != self.slide_path:
            self.stack.clear()
            self.slide_path = path
        if path is not None:
            self.group.setActiveStack(self.stack)
        elif self.group.activeStack() is self.stack:
            self.group.setActiveStack(None)

    def do(self, triage: Triage) -> None:
        """Write the decision and put it on the history; raises the engine's
        error (and changes nothing) when it cannot be written."""
        triage.apply(None)
        self.stack.push(DecisionCommand(self, triage))
        if self.slide_path is not None:
            self.group.setActiveStack(self.stack)
        self.changed.emit(triage.image_key)
