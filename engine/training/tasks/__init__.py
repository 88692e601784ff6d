"""The three training tasks behind one interface: classifier, U-Net, Mask R-CNN."""

from __future__ import annotations

from engine.annotations import Dataset
from engine.training.config import TrainingConfig
from engine.training.tasks.base import Evaluation, Task
from engine.training.tasks.classifier import ClassifierTask
from engine.training.tasks.maskrcnn import MaskRcnnTask
from engine.training.tasks.unet import UnetTask

TASK_TYPES: dict[str, type[Task]] = {
    "classifier": ClassifierTask,
    "unet": UnetTask,
    "maskrcnn": MaskRcnnTask,
}


def make_task(
    config: TrainingConfig, dataset: Dataset, class_names: list[str] | None = None
) -> Task:
    """The task of `config.task` on `dataset`; `class_names` fixes the outputs
    (a checkpoint's) instead of taking them from the dataset's scheme."""
    return TASK_TYPES[config.task](config, dataset, class_names)


__all__ = ["TASK_TYPES", "Evaluation", "Task", "make_task"]
