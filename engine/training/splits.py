"""Train, validation and test splits by cluster image, never by cell.

The cells of one cluster image look alike (same smear, same stain, often the
same class), so a split by cell would let the model see the test image's
neighbours in training. A cropped cell `CROPPED/NNN_KK` belongs to cluster
image NNN of its class and always lands on the same side as it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from engine.annotations import Dataset, ImageKind, ImageRecord
from engine.annotations.sipakmed import CROPPED_STEM
from engine.training.errors import TooFewImagesError

SIDES = ("train", "validation", "test")


def class_folder(record: ImageRecord) -> str:
    """The class folder an image sits in, e.g. "im_Parabasal"."""
    return record.key.split("/", 1)[0]


def cluster_stem(record: ImageRecord) -> str:
    """The stem of the cluster image a record belongs to: "001" for 001_02."""
    if record.kind is ImageKind.CROPPED:
        match = CROPPED_STEM.match(record.stem)
        if match is not None:
            return match["image"]
    return record.stem


def image_group(record: ImageRecord) -> str:
    """The cluster image a record belongs to, as "<class folder>/<stem>"."""
    return f"{class_folder(record)}/{cluster_stem(record)}"


@dataclass
class Split:
    """Which cluster images (groups) are on which side."""

    train: list[str]
    validation: list[str]
    test: list[str]
    seed: int = 0
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    _side: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._side = {group: side for side in SIDES for group in getattr(self, side)}

    def side_of(self, record: ImageRecord) -> str | None:
        return self._side.get(image_group(record))

    def records(self, dataset: Dataset, side: str) -> list[ImageRecord]:
        """The images of a side ("train", "validation", "test" or "all")."""
        if side == "all":
            return list(dataset.images)
        return [image for image in dataset.images if self.side_of(image) == side]

    def to_json(self) -> dict:
        return {
            "seed": self.seed,
            "val_fraction": self.val_fraction,
            "test_fraction": self.test_fraction,
            "train": self.train,
            "validation": self.validation,
            "test": self.test,
        }

    @classmethod
    def from_json(cls, data: dict) -> Split:
        return cls(
            train=list(data.get("train", [])),
            validation=list(data.get("validation", [])),
            test=list(data.get("test", [])),
            seed=int(data.get("seed", 0)),
            val_fraction=float(data.get("val_fraction", 0.15)),
            test_fraction=float(data.get("test_fraction", 0.15)),
        )


def _count(total: int, fraction: float) -> int:
    return max(1, round(total * fraction)) if fraction > 0 else 0


def split_dataset(
    dataset: Dataset,
    seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
) -> Split:
    """Split the cluster images of every class folder with a fixed seed.

    Each class folder is split on its own, so every class is on every side.
    """
    if not 0 <= val_fraction < 1 or not 0 <= test_fraction < 1:
        raise ValueError("validation and test fractions lie in [0, 1)")
    groups_by_folder: dict[str, set[str]] = defaultdict(set)
    for record in dataset.images:
        groups_by_folder[class_folder(record)].add(image_group(record))

    needed = 1 + (val_fraction > 0) + (test_fraction > 0)
    sides: dict[str, list[str]] = {side: [] for side in SIDES}
    for folder in sorted(groups_by_folder):
        groups = sorted(groups_by_folder[folder])
        if len(groups) < needed:
            raise TooFewImagesError(
                f"has {len(groups)} cluster image(s); a split into "
                f"{', '.join(SIDES[:needed])} needs at least {needed} per class",
                dataset.root / folder,
                "add images to this class, or train with --val-fraction 0 "
                "and --test-fraction 0",
            )
        # A string seed is hashed the same way in every Python process.
        random.Random(f"{seed}:{folder}").shuffle(groups)
        n_validation = _count(len(groups), val_fraction)
        n_test = _count(len(groups), test_fraction)
        n_train = len(groups) - n_validation - n_test
        if n_train < 1:
            n_validation, n_test = (
                min(n_validation, 1),
                min(n_test, 1),
            )
            n_train = len(groups) - n_validation - n_test
        sides["validation"] += groups[:n_validation]
        sides["test"] += groups[n_validation : n_validation + n_test]
        sides["train"] += groups[n_validation + n_test :]
    return Split(
        train=sorted(sides["train"]),
        validation=sorted(sides["validation"]),
        test=sorted(sides["test"]),
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
    )
