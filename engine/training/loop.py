"""The one training loop of the three tasks: Adam, checkpoints, events, cancel.

`train(config, dataset, out)` writes a run folder: `out/best/` (the checkpoint
with the best validation figure, which `load_checkpoint(out)` loads) and
`out/last/` (the latest epoch with the optimizer's state, for `--resume`).
Both are replaced atomically after each epoch, so stopping a run at any
moment (cancel, Ctrl+C, NaN, a full disk) never loses the last good one.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.annotations import Dataset
from engine.errors import CervixError
from engine.models import TrainingState, load_checkpoint, save_checkpoint, update_card
from engine.models.checkpoint import BEST, LAST
from engine.models.tensors import unwrap
from engine.training import distributed, setup
from engine.training.config import TrainingConfig
from engine.training.errors import NonFiniteLossError, OutOfMemoryError
from engine.training.events import (
    CancelToken,
    CheckpointSaved,
    EpochEnded,
    EventCallback,
    StepEnded,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
)
from engine.training.tasks import Evaluation

log = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    best_metric: float | None
    checkpoint: Path | None
    cancelled: bool = False
    epochs_done: int = 0
    history: list[dict] = field(default_factory=list)
    test_metrics: dict[str, float] = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def train(
    config: TrainingConfig,
    dataset: Dataset | Path | str,
    out: Path | str,
    on_event: EventCallback | None = None,
    cancel: CancelToken | None = None,
) -> TrainingResult:
    """Train a model as `config` says and write its run folder `out`.

    Raises typed `TrainingError`s (too few images, an empty class, NaN loss,
    GPU out of memory) and `CheckpointWriteError`; a `TrainingFailed` event
    precedes each, naming the last good checkpoint.
    """
    context, device = distributed.setup(config.device)
    run = _Run(config, dataset, Path(out), on_event, cancel, context, device)
    try:
        return run.run()
    finally:
        # Loader workers stop now; left to the garbage collector, each one
        # can hold a later run up for seconds.
        run.loaders = None
        distributed.teardown(context)


@dataclass
class _Window:
    """Images and time spent waiting for data since the last progress event."""

    start: float = field(default_factory=time.perf_counter)
    images: int = 0
    waited: float = 0.0

    def add(self, images: int, waited: float) -> None:
        self.images += images
        self.waited += waited


class _Run:
    """The state of one training run, rank by rank."""

    def __init__(self, config, dataset, out, on_event, cancel, context, device):
        self.config: TrainingConfig = config
        self.dataset_source = dataset
        self.out = out
        self.on_event = on_event
        self.cancel = cancel or CancelToken()
        self.context: distributed.DistContext = context
        self.device: torch.device = device
        self.amp = config.amp and device.type == "cuda"
        self.best_score: list[float] | None = None
        self.best_metric: float | None = None
        self.history: list[dict] = []
        self.saved_best: Path | None = None
        self.pretrained: str | None = None
        self.loaders: setup.Loaders | None = None

    def emit(self, event) -> None:
        if self.context.is_main and self.on_event is not None:
            self.on_event(event)

    # -- setting up ----------------------------------------------------------

    def _prepare(self) -> None:
        config = self.config
        seed_everything(config.seed)
        source = self.dataset_source
        self.dataset = source if isinstance(source, Dataset) else Dataset.open(source)
        resumed = setup.resume_card(config)
        self.task, self.split = setup.prepare_task(
            config, self.dataset, self.context, resumed
        )
        self.loaders = setup.make_loaders(
            config, self.dataset, self.task, self.split, self.context, self.device
        )
        self.steps = self.loaders.steps
        start = setup.make_start(
            config, self.task, self.context, self.device, self.out, resumed
        )
        self.model, self.ddp_model = start.model, start.ddp_model
        self.optimizer, self.scaler = start.optimizer, start.scaler
        self.first_epoch, self.pretrained = start.first_epoch, start.pretrained
        self.history, self.saved_best = start.history, start.saved_best
        self.best_score, self.best_metric = start.best_score, start.best_metric

    # -- running -------------------------------------------------------------

    def run(self) -> TrainingResult:
        try:
            self._prepare()
            return self._epochs()
        except torch.cuda.OutOfMemoryError as error:
            failure = OutOfMemoryError(
                f"the GPU ran out of memory at batch size {self.config.batch_size}",
                self.out,
                f"try --batch-size {max(1, self.config.batch_size // 2)}"
                + (
                    " or a smaller --image-size"
                    if self.config.task != "classifier"
                    else ""
                ),
            )
            self._fail(failure)
            raise failure from error
        except Exception as error:
            # Every failure is announced to the caller's callback, then raised.
            self._fail(error)
            raise

    def _fail(self, error: Exception) -> None:
        kept = str(self.saved_best) if self.saved_best else None
        message = (
            error.user_message() if isinstance(error, CervixError) else repr(error)
        )
        if kept:
            message += f"; the best checkpoint so far is kept at {kept}"
        log.error("Training stopped: %s", message)
        self.emit(TrainingFailed(message=message, checkpoint=kept))

    def _epochs(self) -> TrainingResult:
        config = self.config
        self.emit(
            TrainingStarted(
                task=config.task,
                arch=config.arch,
                device=str(self.device),
                epochs=config.epochs,
                steps_per_epoch=self.steps,
                train_images=len(self.loaders.train.dataset),
                validation_images=len(self.loaders.validation.dataset),
                pretrained=self.pretrained,
                first_epoch=self.first_epoch,
                world_size=self.context.world_size,
            )
        )
        self.started = time.perf_counter()
        self.steps_done = 0
        epoch = self.first_epoch - 1
        for epoch in range(self.first_epoch, config.epochs + 1):
            if self.loaders.sampler is not None:
                self.loaders.sampler.set_epoch(epoch)
            began = time.perf_counter()
            train_loss, data_share = self._train_epoch(epoch)
            if train_loss is None:
                return self._finish(epoch - 1, cancelled=True)
            seconds = time.perf_counter() - began
            if epoch % config.val_every == 0 or epoch == config.epochs:
                self._end_epoch(epoch, train_loss, seconds, data_share)
            else:
                self.emit(
                    EpochEnded(epoch, config.epochs, train_loss, None, {}, seconds)
                )
        return self._finish(epoch, cancelled=False)

    def _train_epoch(self, epoch: int) -> tuple[float | None, float]:
        """One pass over the training data; None as the loss when cancelled.
        Also returns the share of the epoch spent waiting for batches."""
        self.ddp_model.train()
        loss_sum, waited_in_epoch = 0.0, 0.0
        window = _Window()
        epoch_start = time.perf_counter()
        batches = iter(self.loaders.train)
        try:
            for step in range(1, self.steps + 1):
                if self.cancel.cancelled and not self.context.enabled:
                    return None, 0.0
                fetch_start = time.perf_counter()
                batch = next(batches)
                waited = time.perf_counter() - fetch_start
                value = self._step(epoch, step, batch)
                if value is None:
                    return None, 0.0
                loss_sum += value
                waited_in_epoch += waited
                window.add(
                    self.task.batch_size_of(batch) * self.context.world_size, waited
                )
                if step % self.config.log_every == 0 or step == self.steps:
                    self._report_step(epoch, step, value, window)
                    window = _Window()
        finally:
            # A failed step's traceback must not keep the loader's iterator.
            del batches
        mean_loss = distributed.average(
            self.context, loss_sum / self.steps, self.device
        )
        return mean_loss, waited_in_epoch / max(time.perf_counter() - epoch_start, 1e-9)

    def _step(self, epoch: int, step: int, batch: dict) -> float | None:
        """One optimizer step; the loss, or None when the run was cancelled."""
        batch = self.task.to_device(batch, self.device)
        with torch.autocast(self.device.type, enabled=self.amp):
            loss = self.task.loss(self.ddp_model, batch)
        value = float(loss.detach())
        # All ranks must agree before the backward pass, which DDP synchronises.
        cancelled, not_finite = distributed.any_rank(
            self.context, [self.cancel.cancelled, not np.isfinite(value)], self.device
        )
        if not_finite:
            self._non_finite(epoch, step)
        if cancelled:
            return None
        self._warm_up()
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.steps_done += 1
        return value

    def _report_step(self, epoch: int, step: int, loss: float, window: _Window):
        now = time.perf_counter()
        remaining = (self.config.epochs - epoch) * self.steps + self.steps - step
        seconds = max(now - window.start, 1e-9)
        self.emit(
            StepEnded(
                epoch=epoch,
                step=step,
                steps=self.steps,
                loss=loss,
                images_per_s=window.images / seconds,
                eta_s=(now - self.started) / self.steps_done * remaining,
                data_share=window.waited / seconds,
            )
        )

    def _warm_up(self) -> None:
        """Raise the learning rate linearly over the first `warmup_steps` steps."""
        warmup = self.config.warmup_steps
        done = (self.first_epoch - 1) * self.steps + self.steps_done
        if warmup and done <= warmup:
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.lr * (done + 1) / (warmup + 1)

    def _non_finite(self, epoch: int, step: int) -> None:
        kept = (
            f"the last good checkpoint is kept at {self.saved_best}"
            if self.saved_best
            else "no epoch had finished, so no checkpoint was written"
        )
        raise NonFiniteLossError(
            f"the loss became NaN or infinite at epoch {epoch}, step {step}; "
            f"training stopped and {kept}",
            self.out,
            f"lower the learning rate (now --lr {self.config.lr:g}) or check the "
            "annotations of the images in this batch",
        )

    def _end_epoch(self, epoch: int, train_loss: float, seconds: float, share: float):
        # Not yet: validation runs on rank 0 alone while the other ranks wait.
        if self.context.is_main:
            evaluation = self.evaluate(unwrap(self.ddp_model), self.loaders.validation)
            metric = evaluation.metrics.get(self.task.metric)
            loss = evaluation.loss if evaluation.loss is not None else train_loss
            # The task's figure picks the best; ties go to the lower loss.
            score = (metric if metric is not None else 0.0, -loss)
            is_best = self.best_score is None or score > tuple(self.best_score)
            if is_best:
                self.best_score, self.best_metric = list(score), metric
            entry = {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": evaluation.loss,
                **evaluation.metrics,
                "seconds": round(seconds, 2),
            }
            self.history.append(entry)
            card = setup.model_card(
                self.config,
                self.task,
                self.dataset,
                self.split,
                self.context.world_size,
                epoch,
                evaluation,
                self.history,
                self.pretrained,
            )
            self.emit(
                EpochEnded(
                    epoch=epoch,
                    epochs=self.config.epochs,
                    train_loss=train_loss,
                    val_loss=evaluation.loss,
                    metrics=dict(evaluation.metrics),
                    seconds=seconds,
                    best=is_best,
                    data_share=share,
                )
            )
            if is_best:
                self.saved_best = save_checkpoint(self.out / BEST, self.model, card)
                self.emit(
                    CheckpointSaved(str(self.saved_best), metric or 0.0, epoch, BEST)
                )
            progress = {
                "epoch": epoch,
                "best_score": self.best_score,
                "best_metric": self.best_metric,
                "scaler": self.scaler.state_dict() if self.amp else None,
            }
            state = TrainingState(self.optimizer.state_dict(), progress)
            last = save_checkpoint(self.out / LAST, self.model, card, state)
            self.emit(CheckpointSaved(str(last), metric or 0.0, epoch, LAST))
        distributed.barrier(self.context)

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, loader) -> Evaluation:
        model.eval()
        with torch.autocast(self.device.type, enabled=self.amp):
            return self.task.evaluate(model, loader, self.device)

    def _finish(self, epochs_done: int, cancelled: bool) -> TrainingResult:
        test_metrics: dict[str, float] = {}
        if self.context.is_main and self.saved_best is not None and not cancelled:
            if len(self.loaders.test.dataset):
                test_metrics = self._score_best_on_test()
        distributed.barrier(self.context)
        if cancelled:
            log.info("Training cancelled after epoch %d", epochs_done)
        self.emit(
            TrainingFinished(
                best_metric=self.best_metric,
                checkpoint=str(self.saved_best) if self.saved_best else None,
                cancelled=cancelled,
                epochs_done=epochs_done,
                test_metrics=test_metrics,
            )
        )
        return TrainingResult(
            best_metric=self.best_metric,
            checkpoint=self.saved_best,
            cancelled=cancelled,
            epochs_done=epochs_done,
            history=self.history,
            test_metrics=test_metrics,
        )

    @torch.no_grad()
    def _score_best_on_test(self) -> dict[str, float]:
        """The best checkpoint's figures on the test split, written into its card."""
        model, card = load_checkpoint(self.saved_best, self.device)
        evaluation = self.evaluate(model, self.loaders.test)
        card.metrics["test"] = dict(evaluation.metrics)
        card.metrics["test_report"] = evaluation.report
        update_card(self.saved_best, card)
        return dict(evaluation.metrics)
