"""Why a training run could not start or had to stop, each with what to do."""

from __future__ import annotations

from engine.errors import CervixError


class TrainingError(CervixError):
    """A training run that cannot start or cannot go on."""


class TooFewImagesError(TrainingError):
    """Too few cluster images to give every split at least one."""


class EmptyClassError(TrainingError):
    """A class the model must learn that has no cells to learn it from."""


class NonFiniteLossError(TrainingError):
    """The loss became NaN or infinite; the run stopped at the last good checkpoint."""


class OutOfMemoryError(TrainingError):
    """The GPU ran out of memory; a smaller batch usually fits."""


class DataPreparationError(TrainingError):
    """An image needed for training could not be read or prepared."""
