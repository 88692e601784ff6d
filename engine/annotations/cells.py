"""The cell and image records that every part of Cervix Studio shares."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.annotations.datfile import DEFAULT_STYLE, DatStyle


class Origin(str, enum.Enum):
    """Where an outline came from."""

    ANNOTATION = "annotation"
    MODEL = "model"


class ReviewState(str, enum.Enum):
    """What the reviewer decided about a cell."""

    UNREVIEWED = "unreviewed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CORRECTED = "corrected"


class ImageKind(str, enum.Enum):
    """A cluster image with many cells, or an isolated cell from `CROPPED/`."""

    CLUSTER = "cluster"
    CROPPED = "cropped"


@dataclass
class Cell:
    """One cell: its whole outline (cytoplasm), its nucleus, class and review state.

    `cytoplasm` is the outline of the whole cell as SIPaKMeD draws it, so it
    contains the nucleus. Coordinates are pixels of the cell's own image.
    """

    index: int
    cytoplasm: np.ndarray
    nucleus: np.ndarray | None
    class_name: str
    origin: Origin = Origin.ANNOTATION
    score: float | None = None
    review_state: ReviewState = ReviewState.UNREVIEWED
    probabilities: dict[str, float] | None = None
    cytoplasm_style: DatStyle = DEFAULT_STYLE
    nucleus_style: DatStyle = DEFAULT_STYLE

    def __post_init__(self) -> None:
        self.cytoplasm = np.asarray(self.cytoplasm, dtype=np.float64).reshape(-1, 2)
        if self.nucleus is not None:
            self.nucleus = np.asarray(self.nucleus, dtype=np.float64).reshape(-1, 2)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of the whole cell."""
        x_min, y_min = self.cytoplasm.min(axis=0)
        x_max, y_max = self.cytoplasm.max(axis=0)
        return float(x_min), float(y_min), float(x_max), float(y_max)

    @property
    def centroid(self) -> tuple[float, float]:
        x, y = self.cytoplasm.mean(axis=0)
        return float(x), float(y)


@dataclass
class ImageRecord:
    """One image of a dataset and the cells annotated on it."""

    key: str  # unique in the dataset, e.g. "im_Parabasal/001" or ".../CROPPED/001_02"
    path: Path  # the image file
    folder_class: str  # class given by the folder
    kind: ImageKind
    stem: str  # "001" for a cluster image, "001_02" for a cropped cell
    cells: list[Cell] = field(default_factory=list)
    size: tuple[int, int] | None = None  # (width, height) when known
    used_indices: set[int] = field(default_factory=set)  # every KK on disk

    @property
    def annotation_dir(self) -> Path:
        return self.path.parent

    def next_free_index(self) -> int:
        """The next cell index not used by any file on disk or cell in memory."""
        taken = self.used_indices | {cell.index for cell in self.cells}
        return max(taken, default=0) + 1

    def cell(self, index: int) -> Cell:
        for cell in self.cells:
            if cell.index == index:
                return cell
        raise KeyError(f"{self.key} has no cell {index}")
