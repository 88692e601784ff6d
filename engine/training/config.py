"""The settings of one training run, with the recipe's defaults per task."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from engine.models import arch_spec, default_arch

# The recipe: Adam at 1e-4 for 20-30 epochs.
DEFAULT_EPOCHS = {"classifier": 20, "unet": 30, "maskrcnn": 24}
# Detection heads trained from random weights diverge without a warm-up, as in
# Detectron2's recipes; the classifier and U-Net do not need one.
DEFAULT_WARMUP_STEPS = {"classifier": 0, "unet": 0, "maskrcnn": 200}
DEFAULT_BATCH_SIZE = {"classifier": 32, "unet": 8, "maskrcnn": 4}
# Instance labels: one "cell" class by default, since the classifier is the
# model that tells classes apart; "all", "3" or "2" label instances by class.
DEFAULT_SCHEME = {"classifier": "all", "unet": "all", "maskrcnn": "cell"}
SCHEMES = ("all", "5", "3", "2", "cell")


@dataclass
class TrainingConfig:
    """What to train and how; `None` means the task's default."""

    task: str
    arch: str | None = None
    scheme: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    lr: float = 1e-4
    weight_decay: float = 0.0
    warmup_steps: int | None = None  # steps of linear learning-rate warm-up
    image_size: int | None = None
    device: str = "auto"
    pretrained: str | None = "auto"  # "auto" (local cache), "none" or a path
    download_weights: bool = False
    seed: int = 0
    workers: int | None = None  # None: chosen from the device
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    augment: bool = True
    dice_loss: bool = True  # U-Net: BCE + Dice; False: BCE alone
    score_threshold: float = 0.5  # Mask R-CNN: instances kept at inference
    mask_threshold: float = 0.5
    cell_margin: float = 0.15  # classifier: margin around a cell's box, per side
    amp: bool = True  # mixed precision; used on CUDA only
    log_every: int = 10  # steps between StepEnded events
    val_every: int = 1  # epochs between validations (and checkpoints)
    max_steps_per_epoch: int | None = None  # for quick trials and benchmarks
    cache: bool = True  # keep prepared crops and masks under .cervix/cache/
    resume: Path | None = None

    def __post_init__(self) -> None:
        if self.arch is None:
            self.arch = default_arch(self.task).name
        spec = arch_spec(self.task, self.arch)
        if self.scheme is None:
            self.scheme = DEFAULT_SCHEME[self.task]
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown class scheme {self.scheme!r}; use {SCHEMES}")
        if self.epochs is None:
            self.epochs = DEFAULT_EPOCHS[self.task]
        if self.batch_size is None:
            self.batch_size = DEFAULT_BATCH_SIZE[self.task]
        if self.warmup_steps is None:
            self.warmup_steps = DEFAULT_WARMUP_STEPS[self.task]
        if self.image_size is None:
            self.image_size = spec.input_size
        if self.resume is not None:
            self.resume = Path(self.resume)

    def to_json(self) -> dict:
        data = asdict(self)
        data["resume"] = str(self.resume) if self.resume is not None else None
        return data
