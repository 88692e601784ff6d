"""Scoring a trained model on a split of a dataset, as `cervix evaluate` does.

The split is the one the model was trained with (its card keeps the cluster
images of each side) when the dataset is the same; on another dataset the
same seed and fractions split it afresh.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

import torch
from torch import nn

from engine.annotations import Dataset
from engine.models import ModelCard, load_checkpoint
from engine.training.config import TrainingConfig
from engine.training.data import ArrayCache, make_loader
from engine.training.distributed import choose_device
from engine.training.errors import TooFewImagesError
from engine.training.splits import Split, split_dataset
from engine.training.tasks import Evaluation, make_task

log = logging.getLogger(__name__)

SIDES = ("train", "validation", "test", "all")


def config_from_card(card: ModelCard, **overrides) -> TrainingConfig:
    """The training settings a card records, as a config (for its data and task)."""
    known = {f.name for f in fields(TrainingConfig)}
    settings = {k: v for k, v in card.training.items() if k in known}
    settings.update(
        task=card.task,
        arch=card.arch,
        scheme=card.class_scheme,
        image_size=card.input_size,
        resume=None,
        pretrained="none",
    )
    settings.update(overrides)
    return TrainingConfig(**settings)


def split_for(card: ModelCard, dataset: Dataset, config: TrainingConfig) -> Split:
    """The card's own split where it names this dataset's images, else a new one."""
    stored = card.data.get("split")
    if stored:
        split = Split.from_json(stored)
        if any(split.side_of(image) for image in dataset.images):
            return split
        log.info("The model's split names none of these images; splitting afresh")
    return split_dataset(
        dataset, config.seed, config.val_fraction, config.test_fraction
    )


@torch.no_grad()
def evaluate_model(
    model: nn.Module,
    card: ModelCard,
    dataset: Dataset,
    side: str = "test",
    device: torch.device | str = "cpu",
    batch_size: int | None = None,
) -> Evaluation:
    """A model's loss and figures on one side of a dataset ("all" for every image)."""
    if side not in SIDES:
        raise ValueError(f"unknown split {side!r}; use one of {SIDES}")
    device = torch.device(device)
    config = config_from_card(card, device=str(device))
    if batch_size:
        config.batch_size = batch_size
    task = make_task(config, dataset, card.classes)
    task.prepare(ArrayCache.for_dataset(dataset, config.cache))
    split = split_for(card, dataset, config)
    records = split.records(dataset, side)
    data = task.eval_data(records)
    if len(data) == 0:
        raise TooFewImagesError(
            f"has no images in the {side} split for this model",
            dataset.root,
            "evaluate with --split all",
        )
    loader = make_loader(
        data, config.batch_size, task.collate, train=False, workers=0, seed=config.seed
    )
    model.to(device).eval()
    return task.evaluate(model, loader, device)


def evaluate_checkpoint(
    checkpoint: Path | str,
    dataset: Dataset | Path | str,
    side: str = "test",
    device: str = "auto",
    batch_size: int | None = None,
) -> tuple[Evaluation, ModelCard]:
    """Load a checkpoint (or a run's best) and score it on a dataset's split."""
    if not isinstance(dataset, Dataset):
        dataset = Dataset.open(dataset)
    chosen = choose_device(device)
    model, card = load_checkpoint(checkpoint, chosen)
    evaluation = evaluate_model(model, card, dataset, side, chosen, batch_size)
    return evaluation, card
