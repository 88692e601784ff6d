"""Why a model or checkpoint cannot be used, each with what to do."""

from __future__ import annotations

from pathlib import Path

from engine.errors import CervixError


class CheckpointError(CervixError):
    """A checkpoint folder that cannot be used."""


class CheckpointNotFoundError(CheckpointError):
    """No checkpoint at the given path."""


class CheckpointMismatchError(CheckpointError):
    """Weights that do not fit the architecture `model.json` describes."""

    def __init__(self, message: str, path: Path, tensor: str):
        self.tensor = tensor
        super().__init__(
            message, path, "the files do not belong together; retrain or re-export it"
        )


class CheckpointWriteError(CheckpointError):
    """A checkpoint could not be written; the previous one is unchanged."""
