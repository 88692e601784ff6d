"""Training the three models in one loop, with events, cancel, resume and DDP.

`train(TrainingConfig(task="classifier"), dataset, out)` writes a run folder
with the best and the last checkpoint; see `engine.training.loop`.
"""

from engine.training.config import TrainingConfig
from engine.training.errors import (
    DataPreparationError,
    EmptyClassError,
    NonFiniteLossError,
    OutOfMemoryError,
    TooFewImagesError,
    TrainingError,
)
from engine.training.evaluation import evaluate_checkpoint, evaluate_model
from engine.training.events import (
    CancelToken,
    CheckpointSaved,
    EpochEnded,
    StepEnded,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
)
from engine.training.loop import TrainingResult, train
from engine.training.splits import Split, image_group, split_dataset

__all__ = [
    "CancelToken",
    "CheckpointSaved",
    "DataPreparationError",
    "EmptyClassError",
    "EpochEnded",
    "NonFiniteLossError",
    "OutOfMemoryError",
    "Split",
    "StepEnded",
    "TooFewImagesError",
    "TrainingConfig",
    "TrainingError",
    "TrainingEvent",
    "TrainingFailed",
    "TrainingFinished",
    "TrainingResult",
    "TrainingStarted",
    "evaluate_checkpoint",
    "evaluate_model",
    "image_group",
    "split_dataset",
    "train",
]
