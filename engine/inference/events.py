"""What an inference run tells its caller: small event records, a summary, and
the training loop's cancel token.

Events are frozen dataclasses of numbers and strings, as in training, so the
application can pass them between threads and turn them into signals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from engine.training.events import CancelToken


@dataclass(frozen=True)
class TilesProgress:
    """Work done on the image being analysed: tiles of every tiled model (or cell
    crops when only a classifier runs), and the cells found so far in it."""

    done: int
    total: int
    cells_so_far: int
    image_key: str = ""
    image_index: int = 0  # 0-based position of the image in the run
    image_count: int = 1


@dataclass(frozen=True)
class CellsFound:
    """Cells just written for the image being analysed, so that a viewer can draw
    them while the rest of a slide is still being analysed. Unlike the other
    events it carries objects, not only numbers: the cells' outlines."""

    image_key: str
    cells: tuple  # PredictedCell, numbered as stored
    image_index: int = 0
    image_count: int = 1


@dataclass(frozen=True)
class ImageDone:
    """An image whose cells (and mask, and map) are written in full."""

    key: str
    cells: int
    image_index: int = 0
    image_count: int = 1
    seconds: float = 0.0


@dataclass(frozen=True)
class SuspiciousCell:
    """A cell the classifier finds most abnormal, and where it is."""

    image_key: str
    cell_id: int
    x: float  # centre of its bounding box, level-0 pixels of the image
    y: float
    predicted_class: str | None
    abnormal_probability: float


@dataclass(frozen=True)
class PipelineSummary:
    """What a run found: counts per predicted class, the most suspicious cells."""

    run: str
    store: str  # the prediction store's folder
    images: int
    cells: int
    class_counts: dict[str, int] = field(default_factory=dict)
    suspicious: tuple[SuspiciousCell, ...] = ()
    abnormal_classes: tuple[str, ...] = ()
    tiles: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    models: dict[str, str] = field(default_factory=dict)  # task -> checkpoint
    skipped: tuple[str, ...] = ()  # images that could not be read, and why

    def to_json(self) -> dict:
        data = asdict(self)
        data["suspicious"] = [asdict(cell) for cell in self.suspicious]
        data["abnormal_classes"] = list(self.abnormal_classes)
        data["skipped"] = list(self.skipped)
        return data


@dataclass(frozen=True)
class PipelineFinished:
    summary: PipelineSummary


InferenceEvent = TilesProgress | CellsFound | ImageDone | PipelineFinished
EventCallback = Callable[[InferenceEvent], None]


class Cancelled(Exception):
    """Raised inside the pipeline when the cancel token is set; never escapes it."""


__all__ = [
    "CancelToken",
    "Cancelled",
    "CellsFound",
    "EventCallback",
    "ImageDone",
    "InferenceEvent",
    "PipelineFinished",
    "PipelineSummary",
    "SuspiciousCell",
    "TilesProgress",
]
