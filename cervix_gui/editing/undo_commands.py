"""Engine edits as Qt undo commands, so the Edit menu and the undo history show
the same records the engine applies, reverts and tests.

A command holds one change of one image: an engine `Edit`, or a review `Triage`
(a decision about a model's cell). The session applies the change before it
pushes the command, so an edit that cannot be made never enters the history;
after that, redo applies it again and undo reverts it.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QUndoCommand

from engine.errors import CervixError

log = logging.getLogger(__name__)


class EditCommand(QUndoCommand):
    """One change of one image's cells (an engine Edit or a review Triage)."""

    def __init__(self, session, image_key: str, change, text: str):
        super().__init__(text)
        self.session = session
        self.image_key = image_key
        self.change = change
        # Pushing a command calls redo at once; the session applied it already.
        self._applied_before_push = True

    def redo(self) -> None:
        if self._applied_before_push:
            self._applied_before_push = False
            return
        self._step(self.session.apply_change, "redone")

    def undo(self) -> None:
        self._step(self.session.revert_change, "undone")

    def _step(self, step, verb: str) -> None:
        try:
            step(self.image_key, self.change)
        except CervixError as error:
            # The engine changed nothing; an obsolete command leaves the history,
            # so the history never claims a state the cells are not in.
            self.setObsolete(True)
            message = f"{self.text()} could not be {verb}: {error.user_message()}"
            log.warning("%s", message)
            self.session.message.emit(message)
