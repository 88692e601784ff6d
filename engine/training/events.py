"""What a training run tells its caller: small event records and a cancel token.

The events are plain frozen dataclasses of numbers and strings, so the
application can pass them between threads or processes and turn them into
signals; the token is how the caller stops a run between two steps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrainingStarted:
    task: str
    arch: str
    device: str
    epochs: int
    steps_per_epoch: int
    train_images: int
    validation_images: int
    pretrained: str | None  # where the starting weights came from; None: random
    first_epoch: int = 1  # above 1 when resuming
    world_size: int = 1


@dataclass(frozen=True)
class StepEnded:
    epoch: int
    step: int  # 1-based within the epoch
    steps: int  # steps in the epoch
    loss: float
    images_per_s: float
    eta_s: float  # seconds left in the whole run, validation not counted
    data_share: float  # share of the step time spent waiting for data


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    epochs: int
    train_loss: float
    val_loss: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    best: bool = False  # whether this epoch's model became the best checkpoint
    data_share: float = 0.0


@dataclass(frozen=True)
class CheckpointSaved:
    path: str
    metric: float
    epoch: int
    kind: str  # "best" or "last"


@dataclass(frozen=True)
class TrainingFinished:
    best_metric: float | None
    checkpoint: str | None  # the best checkpoint; None when no epoch finished
    cancelled: bool = False
    epochs_done: int = 0
    test_metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingFailed:
    message: str
    checkpoint: str | None  # the last good checkpoint, kept as it was


TrainingEvent = (
    TrainingStarted
    | StepEnded
    | EpochEnded
    | CheckpointSaved
    | TrainingFinished
    | TrainingFailed
)
EventCallback = Callable[[TrainingEvent], None]


class CancelToken:
    """Set by the caller (a Cancel button, Ctrl+C); the run stops before its next
    step and keeps the checkpoints it has written."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
