"""`cervix train TASK --data DATASET --out MODEL`: train one of the three models.

A progress bar goes to stderr and one line per epoch to stdout. Ctrl+C stops
after the current step and keeps the best checkpoint; a second Ctrl+C aborts.
Works the same under `torchrun --nproc_per_node N -m engine.cli train ...`.
"""

from __future__ import annotations

import shutil
import signal
import sys
import time
from pathlib import Path

from engine.errors import CervixError
from engine.models import TASKS, archs, read_card, resolve_checkpoint
from engine.models.checkpoint import BEST, LAST
from engine.training import (
    CancelToken,
    EpochEnded,
    StepEnded,
    TrainingConfig,
    TrainingFinished,
    TrainingStarted,
    train,
)
from engine.training.config import SCHEMES

# Options that, when not given, come from the checkpoint being resumed.
RESUMABLE = (
    "arch",
    "scheme",
    "epochs",
    "batch_size",
    "lr",
    "image_size",
    "seed",
    "val_fraction",
    "test_fraction",
)


# The help listing reads this without importing the module.
SUMMARY = "train a classifier, U-Net or Mask R-CNN on a dataset"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help=SUMMARY,
        description="Train a model. Writes OUT/best (the best validation figure) "
        "and OUT/last (for --resume).",
    )
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--data", type=Path, help="a SIPaKMeD dataset folder")
    parser.add_argument(
        "--out", type=Path, help="run folder (default: DATA/.cervix/models/ARCH)"
    )
    parser.add_argument("--arch", help="architecture (see --list-archs)")
    parser.add_argument(
        "--scheme",
        choices=SCHEMES,
        help="classes: all, 3 (normal/benign/abnormal), 2, or cell (Mask R-CNN)",
    )
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float, help="Adam learning rate (1e-4)")
    parser.add_argument("--image-size", type=int, help="input side in pixels")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument(
        "--pretrained",
        default="auto",
        help="weights to start from: a .safetensors/.pt file, a checkpoint folder, "
        "'none', or 'auto' (the local cache only)",
    )
    parser.add_argument(
        "--download-weights",
        action="store_true",
        help="allow downloading published pretrained weights",
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument("--resume", type=Path, help="a run folder to continue")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an earlier run in --out"
    )
    parser.add_argument("--workers", type=int, help="data loader processes")
    parser.add_argument("--val-fraction", type=float)
    parser.add_argument("--test-fraction", type=float)
    parser.add_argument(
        "--val-every", type=int, default=1, help="epochs between validations"
    )
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--no-dice-loss", action="store_true", help="U-Net: BCE alone")
    parser.add_argument("--max-steps", type=int, help="steps per epoch at most")
    parser.add_argument("--list-archs", action="store_true", help="list and exit")
    parser.set_defaults(func=run)


def list_archs(task: str) -> None:
    for spec in archs(task):
        flags = ", ".join(
            word
            for word, on in (("default", spec.default), ("small", spec.small))
            if on
        )
        suffix = f"  ({flags})" if flags else ""
        print(f"{spec.name:<24} {spec.input_size:>4} px  {spec.description}{suffix}")


def build_config(args) -> TrainingConfig:
    given = {
        name: getattr(args, name)
        for name in RESUMABLE
        if getattr(args, name) is not None
    }
    if args.resume is not None:
        recorded = read_card(resolve_checkpoint(args.resume, LAST)).training
        for name in RESUMABLE:
            if name not in given and recorded.get(name) is not None:
                given[name] = recorded[name]
    return TrainingConfig(
        task=args.task,
        device=args.device,
        pretrained=args.pretrained,
        download_weights=args.download_weights,
        resume=args.resume,
        workers=args.workers,
        val_every=max(1, args.val_every),
        augment=not args.no_augment,
        dice_loss=not args.no_dice_loss,
        max_steps_per_epoch=args.max_steps,
        **given,
    )


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Turns training events into a progress bar and one line per epoch."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.last_plain = 0.0
        self.epochs = 0
        self.metric_names: list[str] = []

    def __call__(self, event) -> None:
        if isinstance(event, TrainingStarted):
            self.epochs = event.epochs
            start = event.pretrained or "random weights (no pretrained weights)"
            print(
                f"Training {event.task} {event.arch} on {event.device}"
                + (f" x{event.world_size}" if event.world_size > 1 else "")
                + f": {event.train_images} training and {event.validation_images} "
                f"validation samples, epochs {event.first_epoch}-{event.epochs} of "
                f"{event.steps_per_epoch} steps, from {start}",
                flush=True,
            )
        elif isinstance(event, StepEnded):
            self._bar(event)
        elif isinstance(event, EpochEnded):
            self._clear()
            figures = "  ".join(f"{k} {v:.3f}" for k, v in event.metrics.items())
            val = (
                f"  val loss {event.val_loss:.4f}" if event.val_loss is not None else ""
            )
            print(
                f"epoch {event.epoch:>3}/{event.epochs}  train loss "
                f"{event.train_loss:.4f}{val}  {figures}  {event.seconds:.1f} s"
                + ("  * best" if event.best else ""),
                flush=True,
            )
        elif isinstance(event, TrainingFinished):
            self._clear()
            self._finished(event)

    def _bar(self, event: StepEnded) -> None:
        width = 24
        filled = round(width * event.step / event.steps)
        bar = "#" * filled + "-" * (width - filled)
        line = (
            f"epoch {event.epoch}/{self.epochs} [{bar}]"
            f" {event.step}/{event.steps}  loss {event.loss:.4f}  "
            f"{event.images_per_s:.1f} img/s  data {event.data_share:.0%}  "
            f"eta {_clock(event.eta_s)}"
        )
        if self.live:
            self.stream.write("\r" + line + "\x1b[K")
            self.stream.flush()
        elif time.monotonic() - self.last_plain > 10:
            self.last_plain = time.monotonic()
            print(line, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    @staticmethod
    def _finished(event: TrainingFinished) -> None:
        if event.checkpoint is None:
            print("No epoch finished; no checkpoint was written.", flush=True)
            return
        what = "Cancelled; the best" if event.cancelled else "Best"
        metric = f" ({event.best_metric:.3f})" if event.best_metric is not None else ""
        print(f"{what} checkpoint{metric}: {event.checkpoint}", flush=True)
        if event.test_metrics:
            figures = "  ".join(f"{k} {v:.3f}" for k, v in event.test_metrics.items())
            print(f"test split: {figures}", flush=True)


def run(args) -> int:
    if args.list_archs:
        list_archs(args.task)
        return 0
    if args.data is None:
        raise CervixError(
            "--data DATASET is required",
            hint=f"cervix train {args.task} --data DATASET",
        )
    config = build_config(args)
    out = args.out or args.resume or args.data / ".cervix" / "models" / config.arch
    earlier = [out / name for name in (BEST, LAST) if (out / name).exists()]
    if earlier and args.resume is None:
        if not args.overwrite:
            raise CervixError(
                "already holds a training run",
                out,
                "continue it with --resume, replace it with --overwrite, "
                "or choose another --out",
            )
        for folder in earlier:
            shutil.rmtree(folder)
    cancel = CancelToken()

    def on_interrupt(signum, frame):
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        print(
            "\nStopping after this step; the best checkpoint is kept "
            "(Ctrl+C again to abort).",
            file=sys.stderr,
            flush=True,
        )

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        result = train(config, args.data, out, on_event=Progress(), cancel=cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
    return 130 if result.cancelled else 0
