"""One engine job (a fine-tuning run or an inference run) in its own thread,
its engine events turned into Qt signals that arrive on the GUI thread.

The engine's training and inference packages import torch, so they are imported
here only when a job runs: the window must open without paying for torch."""

from __future__ import annotations

import copy
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from engine.errors import CervixError

log = logging.getLogger(__name__)


@dataclass
class TrainingJob:
    """Fine-tune `config.task` on the dataset at `dataset_root` into `out`.

    When the run starts from a checkpoint, both models are scored on the same
    held-out images at the end, so `final_metrics` and `starting_metrics` can
    be compared; otherwise `starting_metrics` holds the figures on the starting
    model's card, if any, and `comparison` says which it is."""

    config: object  # engine.training.TrainingConfig
    dataset_root: Path
    out: Path
    starting_metrics: dict[str, float] = field(default_factory=dict)
    final_metrics: dict[str, float] = field(default_factory=dict)
    comparison: str = ""

    kind = "training"

    @property
    def device(self) -> str:
        return self.config.device

    @property
    def title(self) -> str:
        return f"Fine-tune {self.config.task} ({self.config.arch}) -> {self.out.name}"

    def starting_checkpoint(self) -> Path | None:
        """The checkpoint folder the run starts from, if it starts from one."""
        pretrained = self.config.pretrained
        if pretrained in (None, "", "auto", "none"):
            return None
        path = Path(pretrained)
        return path if path.is_dir() else None

    def execute(self, on_event, cancel):
        # Imported here, so that a test may replace the engine's function.
        from engine.training import loop

        result = loop.train(self.config, self.dataset_root, self.out, on_event, cancel)
        if result.checkpoint is not None and not result.cancelled:
            self._compare_with_start(Path(result.checkpoint))
        return result

    def _compare_with_start(self, checkpoint: Path) -> None:
        """Score the new checkpoint and the starting one on the same images."""
        start = self.starting_checkpoint()
        if start is None:
            return
        from engine.annotations import Dataset
        from engine.models import load_checkpoint
        from engine.training.distributed import choose_device
        from engine.training.evaluation import evaluate_model

        side = "test" if self.config.test_fraction > 0 else "validation"
        try:
            device = choose_device(self.config.device)
            dataset = Dataset.open(self.dataset_root)
            new_model, new_card = load_checkpoint(checkpoint, device)
            old_model, old_card = load_checkpoint(start, device)
            if list(old_card.classes) != list(new_card.classes):
                self.comparison = (
                    "the start's figures are from its card (it has other classes)"
                )
                return
            # The starting model is scored on the new run's held-out images.
            old_card = copy.deepcopy(old_card)
            old_card.data = dict(old_card.data, split=new_card.data.get("split"))
            self.final_metrics = evaluate_model(
                new_model, new_card, dataset, side, device
            ).metrics
            self.starting_metrics = evaluate_model(
                old_model, old_card, dataset, side, device
            ).metrics
            self.comparison = f"both models scored on the same {side} images"
        except CervixError as error:
            log.warning("The starting model was not scored: %s", error.user_message())
            self.comparison = "the start's figures are from its card"


@dataclass
class InferenceJob:
    """Run the checkpoints `models` over `jobs` (engine ImageJobs) into `store`."""

    models: list[Path]
    jobs: list
    store: object  # engine.predictions.PredictionStore
    device: str = "auto"
    batch_size: int | None = None
    run_name: str | None = None

    kind = "inference"

    @property
    def title(self) -> str:
        names = ", ".join(path.name for path in self.models)
        count = len(self.jobs)
        return f"Inference with {names} on {count} image{'s' * (count != 1)}"

    def execute(self, on_event, cancel):
        from engine.inference import InferencePipeline, load_predictor, run_name_for

        predictors = {}
        for folder in self.models:
            predictor = load_predictor(folder, self.device, self.batch_size or 8)
            predictors[predictor.task] = predictor
        pipeline = InferencePipeline(
            classifier=predictors.get("classifier"),
            unet=predictors.get("unet"),
            maskrcnn=predictors.get("maskrcnn"),
            batch_size=self.batch_size,
            cancel=cancel,
            on_event=on_event,
        )
        run_name = self.run_name or run_name_for(pipeline.predictors)
        return pipeline.run(self.jobs, self.store, run_name)


def memory_in_use(device: str) -> tuple[str, int]:
    """What the job's device holds now: CUDA memory allocated by torch, or the
    process's resident memory on the CPU; (what was measured, bytes)."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        index = int(device.split(":")[1]) if ":" in device else 0
        return f"GPU {index} memory", int(torch.cuda.memory_allocated(index))
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return "process memory", pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        # ru_maxrss is the peak, in KiB on Linux: the best left without /proc.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return "peak process memory", int(peak) * 1024


def _out_of_memory(error: BaseException) -> bool:
    import torch

    from engine.training.errors import OutOfMemoryError

    return isinstance(error, OutOfMemoryError | torch.OutOfMemoryError | MemoryError)


def failure_message(error: BaseException, job) -> str:
    """What a person reads when `job` stopped on `error`, with what to do."""
    if _out_of_memory(error) or "out of memory" in str(error).lower():
        size = getattr(getattr(job, "config", None), "batch_size", None)
        hint = f" (now {size})" if size else ""
        return (
            f"The device ran out of memory. Try a smaller batch size{hint} or a "
            "smaller image size."
        )
    if isinstance(error, CervixError):
        return error.user_message()
    return (
        f"An unexpected error stopped the job ({type(error).__name__}: {error}); "
        "the log has the details."
    )


class JobWorker(QThread):
    """Runs one job's `execute` in this thread. Signals are emitted from the
    worker thread and, the worker living on the GUI thread, are queued there."""

    # Bytes travel as a Python object: a process over 2 GiB overflows a Qt int.
    event = Signal(object, str, object)  # engine event, memory measured, bytes
    finished_with = Signal(object)  # TrainingResult or PipelineSummary
    failed = Signal(str)

    def __init__(self, job, parent=None):
        super().__init__(parent)
        self.job = job
        if job.kind == "inference":
            from engine.inference import CancelToken
        else:
            from engine.training import CancelToken
        self.cancel_token = CancelToken()
        self._device = job.device

    def cancel(self) -> None:
        """Stop before the next step (or batch); checkpoints written stay."""
        self.cancel_token.cancel()

    def _on_event(self, engine_event) -> None:
        # "auto" becomes a real device only once the run has started.
        self._device = str(getattr(engine_event, "device", self._device))
        what, used = memory_in_use(self._device)
        self.event.emit(engine_event, what, used)

    def run(self) -> None:
        try:
            result = self.job.execute(self._on_event, self.cancel_token)
        except Exception as error:  # a worker thread must report, never crash
            log.exception("%s failed", self.job.title)
            self.failed.emit(failure_message(error, self.job))
            return
        self.finished_with.emit(result)
