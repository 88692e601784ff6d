"""From model output to predicted cells: outlines traced from merged masks, the
nucleus from the U-Net inside each cell, and class probabilities (and Grad-CAM
maps) from the classifier, a batch at a time with the crops read ahead.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
from shapely.geometry import Polygon

from engine.annotations.classes import ClassScheme
from engine.annotations.importers.contours import fit_inside, trace_outline
from engine.images import CachedTileReader, ImageSource
from engine.inference.crops import CropWindow, crop_window, read_cell_crop
from engine.inference.gradcam import GradCam, map_in_image
from engine.inference.merge import MergedCell
from engine.inference.nucleus import cell_pixels, stain_nucleus_mask
from engine.inference.predictors import ClassifierPredictor
from engine.inference.segmentation import UnetBand
from engine.inference.tiling import TileGrid
from engine.models import ModelCard
from engine.predictions import PredictedCell

log = logging.getLogger(__name__)

NUCLEUS_THRESHOLD = 128  # of 255: the U-Net's nucleus probability 0.5


def pixel_edge_outline(vertices: np.ndarray) -> np.ndarray:
    """An outline through pixel centres moved out by half a pixel, so that its area
    is the mask's pixel count: what a coarse working grid needs before scaling."""
    polygon = Polygon(vertices).buffer(0.5, join_style="mitre", mitre_limit=2.0)
    if polygon.is_empty or polygon.geom_type != "Polygon":
        return np.asarray(vertices, np.float64)
    return np.asarray(polygon.exterior.coords, np.float64)[:-1]


def traced(mask: np.ndarray, x0: int, y0: int, grid: TileGrid) -> np.ndarray | None:
    """The level-0 outline of the largest piece of a working-pixel mask."""
    outline = trace_outline(mask)
    if outline is None:
        return None
    return grid.to_level0(pixel_edge_outline(outline.vertices) + (x0, y0))


def abnormal_classes(card: ModelCard) -> set[str]:
    """The classifier's classes in the abnormal group of its class scheme."""
    if card.class_scheme in ("2", "3"):
        return {"abnormal"} & set(card.classes)
    scheme = ClassScheme.from_json(card.scheme) if card.scheme else ClassScheme()
    names = {c.name for c in scheme.classes if c.group == "abnormal"}
    return names & set(card.classes)


def unet_nucleus(
    unet: UnetBand, mask: np.ndarray, x0: int, y0: int, grid: TileGrid
) -> np.ndarray | None:
    """The level-0 outline of the U-Net's nucleus inside a cell whose mask lies at
    (x0, y0) of `grid`, traced on the U-Net's own grid, at its resolution."""
    ratio = grid.scale / unet.grid.scale  # cell-grid pixels per U-Net pixel
    height, width = mask.shape
    left = max(0, math.floor((x0 + 0.5) / ratio - 0.5))
    top = max(0, math.floor((y0 + 0.5) / ratio - 0.5))
    right = min(unet.grid.width, math.ceil((x0 + width - 0.5) / ratio - 0.5) + 1)
    bottom = min(unet.ready_until, math.ceil((y0 + height - 0.5) / ratio - 0.5) + 1)
    if right <= left or bottom <= top:
        return None
    nucleus = unet.rows(top, bottom)[:, left:right, 1] >= NUCLEUS_THRESHOLD
    if ratio != 1.0:
        # The cell's mask at the U-Net's pixels: each takes the cell pixel
        # under its centre.
        matrix = np.float32(
            [
                [ratio, 0, (left + 0.5) * ratio - 0.5 - x0],
                [0, ratio, (top + 0.5) * ratio - 0.5 - y0],
            ]
        )
        mask = cv2.warpAffine(
            mask.astype(np.uint8),
            matrix,
            (right - left, bottom - top),
            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        ).astype(bool)
    else:
        mask = mask[top - y0 : bottom - y0, left - x0 : right - x0]
    inside = nucleus & mask
    if not inside.any():
        return None
    return traced(inside, left, top, unet.grid)


def stain_nucleus(
    source: ImageSource,
    cytoplasm: np.ndarray,
    reader: CachedTileReader | None = None,
) -> np.ndarray | None:
    """The level-0 outline of the darkest-stained piece inside a cell with
    level-0 outline `cytoplasm`, read from the image: the nucleus when no U-Net
    gives one. None when the cell shows none; else it lies inside the cell."""
    found = cell_pixels(source, cytoplasm, reader)
    if found is None:
        return None
    pixels, cell, (x0, y0), downsample = found
    nucleus = stain_nucleus_mask(pixels, cell)
    if nucleus is None:
        return None
    outline = trace_outline(nucleus)
    if outline is None:
        return None
    vertices = pixel_edge_outline(outline.vertices) * downsample + (x0, y0)
    return fit_inside(np.round(vertices, 2), np.round(cytoplasm, 2))


def predicted_cell(
    merged: MergedCell,
    grid: TileGrid,
    *,
    unet: UnetBand | None = None,
    label_names: list[str] | None = None,
    source: str = "maskrcnn",
    image: ImageSource | None = None,
    reader: CachedTileReader | None = None,
) -> PredictedCell | None:
    """A merged cell as a PredictedCell in level-0 pixels; None when its mask
    holds no area. The nucleus is the U-Net's nucleus inside the cell; without
    a U-Net, the darkest-stained piece of the cell in `image`, when given."""
    mask, x0, y0 = merged.mask()
    cytoplasm = traced(mask, x0, y0, grid)
    if cytoplasm is None:
        return None
    nucleus = None
    if unet is not None:
        found = unet_nucleus(unet, mask, x0, y0, grid)
        if found is not None:
            nucleus = fit_inside(np.round(found, 2), np.round(cytoplasm, 2))
    elif image is not None:
        nucleus = stain_nucleus(image, cytoplasm, reader)
    label = None
    if label_names and label_names != ["cell"] and 0 <= merged.label < len(label_names):
        label = label_names[merged.label]
    return PredictedCell(
        id=0,
        cytoplasm=np.round(cytoplasm, 2),
        nucleus=nucleus,
        score=merged.score,
        predicted_class=label,
        source=source,
    )


def cell_bounds(cell: PredictedCell) -> tuple[float, float, float, float]:
    x_min, y_min = cell.cytoplasm.min(axis=0)
    x_max, y_max = cell.cytoplasm.max(axis=0)
    return float(x_min), float(y_min), float(x_max), float(y_max)


@dataclass
class ClassifiedCell:
    """A cell ready to be written, and its Grad-CAM map on its crop's square."""

    cell: PredictedCell
    window: CropWindow | None = None
    heatmap: np.ndarray | None = None  # (side, side) uint8


class CellClassifier:
    """Classifies cells in batches; their crops are read by threads as soon as the
    cells arrive, so reading overlaps the models' work."""

    def __init__(
        self,
        source: ImageSource,
        predictor: ClassifierPredictor | None,
        *,
        gradcam: GradCam | None = None,
        batch_size: int = 32,
        reader_threads: int = 2,
        reader: CachedTileReader | None = None,
    ):
        self.source = source
        self.reader = reader
        self.predictor = predictor
        self.gradcam = gradcam
        self.batch_size = max(1, batch_size)
        self._pending: deque[tuple[PredictedCell, CropWindow, Future | None]] = deque()
        self._executor = (
            ThreadPoolExecutor(reader_threads, thread_name_prefix="cell-crops")
            if predictor is not None
            else None
        )
        self.crops_done = 0

    @property
    def margin(self) -> float:
        return self.predictor.cell_margin if self.predictor else 0.15

    def submit(self, cells: list[PredictedCell]) -> None:
        for cell in cells:
            window = crop_window(cell_bounds(cell), self.margin)
            future = None
            if self._executor is not None:
                future = self._executor.submit(
                    read_cell_crop,
                    self.source,
                    cell_bounds(cell),
                    self.predictor.input_size,
                    self.margin,
                    self.reader,
                )
            self._pending.append((cell, window, future))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def pending_top(self) -> float | None:
        """The highest level-0 row any waiting cell's crop square reaches."""
        return min((window.y0 for _, window, _ in self._pending), default=None)

    def ready(self, flush: bool = False, ahead: int = 0) -> list[ClassifiedCell]:
        """The cells classified now: full batches, leaving the last `ahead` cells
        to their readers; or everything with `flush`."""
        done: list[ClassifiedCell] = []
        if self.predictor is None:
            ahead = 0  # nothing is read, so nothing need wait
        while self._pending and (
            flush or len(self._pending) >= self.batch_size + ahead
        ):
            count = min(self.batch_size, len(self._pending))
            batch = [self._pending.popleft() for _ in range(count)]
            done.extend(self._classify(batch))
        return done

    def _classify(self, batch) -> list[ClassifiedCell]:
        if self.predictor is None:
            return [ClassifiedCell(cell, window) for cell, window, _ in batch]
        crops = np.stack([future.result() for _, _, future in batch])
        probabilities = self.predictor.predict_crops(crops)
        winners = probabilities.argmax(axis=1)
        heatmaps = (
            self.gradcam.maps(crops, winners.tolist())
            if self.gradcam is not None
            else [None] * len(batch)
        )
        classes = self.predictor.classes
        out = []
        for (cell, window, _), row, winner, cam in zip(
            batch, probabilities, winners, heatmaps, strict=True
        ):
            cell.probabilities = {
                name: float(value) for name, value in zip(classes, row, strict=True)
            }
            cell.predicted_class = classes[int(winner)]
            heatmap = None if cam is None else map_in_image(cam, window)
            out.append(ClassifiedCell(cell, window, heatmap))
        self.crops_done += len(batch)
        return out

    def close(self) -> None:
        if self._executor is not None:
            for _, _, future in self._pending:
                future.cancel()
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()
