"""Typed errors a user can cause, each carrying the path and what to do about it."""

from __future__ import annotations

from pathlib import Path


class CervixError(Exception):
    """Base of every error the user can cause and the application explains."""

    def __init__(self, message: str, path: Path | str | None = None, hint: str = ""):
        self.path = Path(path) if path is not None else None
        self.hint = hint
        self.message = message
        super().__init__(self.user_message())

    def user_message(self) -> str:
        """The message for a person: the file, what is wrong, what to do."""
        parts = []
        if self.path is not None:
            parts.append(f"{self.path}: ")
        parts.append(self.message)
        if self.hint:
            parts.append(f" ({self.hint})")
        return "".join(parts)


class NotADatasetError(CervixError):
    """A folder that holds no SIPaKMeD-style class folders."""


class DatasetLockedError(CervixError):
    """Another editor holds the dataset's lock."""


class SaveError(CervixError):
    """Writing annotations failed; nothing on disk was changed for the failing file."""
