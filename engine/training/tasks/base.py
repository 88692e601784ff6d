"""What the training loop asks of a task: data, loss, evaluation, the card.

The loop is the same for the classifier, the U-Net and Mask R-CNN; everything
that differs between them sits behind this small interface.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch
from torch import nn

from engine.annotations import Dataset, ImageRecord
from engine.models import IMAGENET_MEAN, IMAGENET_STD
from engine.training.config import TrainingConfig
from engine.training.data import ArrayCache
from engine.training.splits import Split

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """A model's figures on one split."""

    loss: float | None
    metrics: dict[str, float]  # flat numbers: events, history, the card
    report: dict = field(default_factory=dict)  # everything, as JSON
    table: str = ""  # for people


class Task(ABC):
    """One kind of model: how its data is prepared, batched, scored."""

    name: str = ""
    # The validation figure that picks the best checkpoint (higher is better).
    metric: str = ""

    def __init__(
        self,
        config: TrainingConfig,
        dataset: Dataset,
        class_names: list[str] | None = None,
    ):
        self.config = config
        self.dataset = dataset
        self.class_names = list(class_names or self.default_class_names())
        self.mean = IMAGENET_MEAN
        self.std = IMAGENET_STD

    # -- classes -------------------------------------------------------------

    def default_class_names(self) -> list[str]:
        return list(self.dataset.scheme.target_names(self.config.scheme))

    def target_index(self, class_name: str) -> int | None:
        """The index of a cell's class under the run's scheme; None if unknown."""
        try:
            target = self.dataset.scheme.target(class_name, self.config.scheme)
        except (KeyError, ValueError):
            return None
        try:
            return self.class_names.index(target)
        except ValueError:
            return None

    @property
    def num_outputs(self) -> int:
        return len(self.class_names)

    def model_options(self) -> dict:
        """Options that shape the architecture, saved in the card to rebuild it."""
        return {}

    def inference_settings(self) -> dict:
        return {}

    # -- data ----------------------------------------------------------------

    @abstractmethod
    def prepare(self, cache: ArrayCache) -> None:
        """Compute crops, masks or outlines for the whole dataset, once."""

    def check(self, split: Split) -> None:  # noqa: B027 - optional for tasks
        """Refuse a split the task cannot learn from (typed errors)."""

    @abstractmethod
    def train_data(self, records: list[ImageRecord]) -> torch.utils.data.Dataset: ...

    @abstractmethod
    def eval_data(self, records: list[ImageRecord]) -> torch.utils.data.Dataset: ...

    @abstractmethod
    def collate(self, samples: list) -> dict: ...

    @abstractmethod
    def to_device(self, batch: dict, device: torch.device) -> dict: ...

    def batch_size_of(self, batch: dict) -> int:
        return int(batch["size"])

    # -- learning ------------------------------------------------------------

    @abstractmethod
    def loss(self, model: nn.Module, batch: dict) -> torch.Tensor: ...

    @abstractmethod
    def evaluate(
        self,
        model: nn.Module,
        loader: torch.utils.data.DataLoader,
        device: torch.device,
    ) -> Evaluation:
        """The model's loss and figures on a loader's images; the model is in eval
        mode and gradients are off when this is called."""
