"""Setting up a training run: the task and its split, loaders, model, optimizer,
and the state a resumed run starts from; and the model card each save writes."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file

from engine.annotations import Dataset
from engine.models import (
    ModelCard,
    apply_pretrained,
    build_model,
    find_pretrained,
    load_training_state,
    read_card,
    resolve_checkpoint,
)
from engine.models.checkpoint import BEST, LAST, WEIGHTS_FILE
from engine.training import distributed
from engine.training.config import TrainingConfig
from engine.training.data import ArrayCache, data_fingerprint, make_loader
from engine.training.errors import TooFewImagesError, TrainingError
from engine.training.splits import Split, split_dataset
from engine.training.tasks import Evaluation, Task, make_task

log = logging.getLogger(__name__)


@dataclass
class Loaders:
    train: torch.utils.data.DataLoader
    validation: torch.utils.data.DataLoader
    test: torch.utils.data.DataLoader
    sampler: torch.utils.data.DistributedSampler | None
    steps: int  # training steps per epoch


@dataclass
class Start:
    """The model and optimizer a run begins with, fresh or resumed."""

    model: torch.nn.Module
    ddp_model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    first_epoch: int = 1
    pretrained: str | None = None
    history: list[dict] = field(default_factory=list)
    best_score: list[float] | None = None
    best_metric: float | None = None
    saved_best: Path | None = None


def default_workers(device: torch.device, world_size: int) -> int:
    """Loader workers: on a CPU one, where a core is to spare, so that cropping and
    augmenting overlap the step; a few on a GPU.

    Workers are forked. On a CPU, a run on a thread other than the main one (a
    window's job) gets none: forking a process whose other threads (the GUI's,
    PyTorch's) may hold locks can leave the child stuck or dead, and the fork
    itself stops every thread for as long as it copies the process's page
    tables. Only a GPU's run, which needs its loaders to keep the GPU fed,
    forks from a thread."""
    cores_per_rank = (os.cpu_count() or 1) // world_size
    if device.type == "cpu":
        if threading.current_thread() is not threading.main_thread():
            return 0
        return 1 if cores_per_rank >= 2 else 0
    return max(0, min(4, cores_per_rank - 1))


def resume_card(config: TrainingConfig) -> ModelCard | None:
    """The card of the run being resumed, checked against the config."""
    if config.resume is None:
        return None
    card = read_card(resolve_checkpoint(config.resume, LAST))
    if (card.task, card.arch) != (config.task, config.arch):
        raise TrainingError(
            f"is a {card.task} {card.arch}, not a {config.task} {config.arch}",
            config.resume,
            "resume with the same task and --arch",
        )
    return card


def prepare_task(
    config: TrainingConfig,
    dataset: Dataset,
    context: distributed.DistContext,
    resumed: ModelCard | None,
) -> tuple[Task, Split]:
    """The task with its data prepared, and the split it trains on."""
    task = make_task(config, dataset, resumed.classes if resumed else None)
    split = split_dataset(
        dataset, config.seed, config.val_fraction, config.test_fraction
    )
    cache = ArrayCache.for_dataset(dataset, config.cache)
    # Rank 0 prepares and caches; the others then read its cache.
    if context.is_main:
        task.prepare(cache)
    distributed.barrier(context)
    if not context.is_main:
        task.prepare(cache)
    task.check(split)
    return task, split


def make_loaders(
    config: TrainingConfig,
    dataset: Dataset,
    task: Task,
    split: Split,
    context: distributed.DistContext,
    device: torch.device,
) -> Loaders:
    train_data = task.train_data(split.records(dataset, "train"))
    if len(train_data) == 0:
        raise TooFewImagesError(
            f"has no {task.name} training samples in its training split",
            dataset.root,
            "annotate cells in more cluster images",
        )
    sampler = None
    if context.enabled:
        sampler = torch.utils.data.DistributedSampler(
            train_data, context.world_size, context.rank, seed=config.seed
        )
    workers = config.workers
    if workers is None:
        workers = default_workers(device, context.world_size)
    options = dict(
        collate=task.collate,
        workers=workers,
        seed=config.seed,
        pin_memory=device.type == "cuda",
    )
    train = make_loader(
        train_data, config.batch_size, train=True, sampler=sampler, **options
    )
    # Evaluation reads prepared arrays without augmenting them: no workers.
    options["workers"] = 0
    evaluation = {
        side: make_loader(
            task.eval_data(split.records(dataset, side)),
            config.batch_size,
            train=False,
            **options,
        )
        for side in ("validation", "test")
    }
    steps = len(train)
    if config.max_steps_per_epoch:
        steps = min(steps, config.max_steps_per_epoch)
    return Loaders(train, evaluation["validation"], evaluation["test"], sampler, steps)


def make_start(
    config: TrainingConfig,
    task: Task,
    context: distributed.DistContext,
    device: torch.device,
    out: Path,
    resumed: ModelCard | None,
) -> Start:
    """The model (pretrained, resumed or random), wrapped for DDP, and Adam."""
    model = build_model(
        config.task,
        config.arch,
        task.num_outputs,
        image_size=config.image_size,
        **task.model_options(),
    )
    state, pretrained = None, None
    if resumed is not None:
        folder = resolve_checkpoint(config.resume, LAST)
        model.load_state_dict(load_file(folder / WEIGHTS_FILE), strict=True)
        state = load_training_state(folder)
        pretrained = resumed.pretrained
        log.info(
            "Resuming from %r after epoch %d", str(folder), state.progress["epoch"]
        )
    else:
        weights = find_pretrained(
            config.task, config.arch, config.pretrained, config.download_weights
        )
        if weights is not None:
            apply_pretrained(model, weights)
            pretrained = weights.source
        else:
            log.info(
                "Starting %s from random weights: no pretrained weights were given "
                "or found in the local cache (--pretrained FILE or --download-weights)",
                config.arch,
            )
    model = model.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(
        parameters, lr=config.lr, weight_decay=config.weight_decay
    )
    amp = config.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    start = Start(
        model=model,
        ddp_model=distributed.wrap(model, context, device, config.task),
        optimizer=optimizer,
        scaler=scaler,
        pretrained=pretrained,
    )
    if state is not None:
        optimizer.load_state_dict(state.optimizer)
        if state.progress.get("scaler") and amp:
            scaler.load_state_dict(state.progress["scaler"])
        start.first_epoch = int(state.progress["epoch"]) + 1
        start.history = list(resumed.history)
        start.best_score = state.progress.get("best_score")
        start.best_metric = state.progress.get("best_metric")
        best = out / BEST
        start.saved_best = best if (best / WEIGHTS_FILE).exists() else None
    return start


def model_card(
    config: TrainingConfig,
    task: Task,
    dataset: Dataset,
    split: Split,
    world_size: int,
    epoch: int,
    evaluation: Evaluation,
    history: list[dict],
    pretrained: str | None,
) -> ModelCard:
    """What `model.json` says about the weights of this epoch."""
    training = config.to_json()
    training["world_size"] = world_size
    return ModelCard(
        task=config.task,
        arch=config.arch,
        num_classes=task.num_outputs,
        classes=list(task.class_names),
        input_size=config.image_size,
        class_scheme=config.scheme,
        scheme=dataset.scheme.to_json(),
        mean=list(task.mean),
        std=list(task.std),
        options=task.model_options(),
        inference=task.inference_settings(),
        training=training,
        metrics={"validation": dict(evaluation.metrics)},
        history=list(history),
        data={
            "root": str(dataset.root),
            "synthetic": dataset.settings.synthetic,
            "fingerprint": data_fingerprint(dataset.images),
            "images": len(dataset.images),
            "cells": dataset.cell_count(),
            "split": split.to_json(),
        },
        pretrained=pretrained,
        epoch=epoch,
    )
