"""Correcting annotations in the window: editing tools, undo commands over the
engine's edits, saving, the crash journal and model proposals."""

from cervix_gui.editing.edit_session import EditSession, SaveOutcome
from cervix_gui.editing.window_editing import WindowEditing

__all__ = ["EditSession", "SaveOutcome", "WindowEditing"]
