"""Model-assisted outlines: a click on a cell proposes its outline and nucleus from
a run's stored predictions, for the reviewer to accept, edit or reject.

The instance model's cells come first, since each is one cell; where none lies
under the point, the U-Net's cell mask gives the connected region around it,
which may hold several touching cells that the U-Net did not tell apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from engine.annotations.cells import Cell, Origin, ReviewState
from engine.annotations.dataset import new_cell
from engine.annotations.importers.contours import fit_inside, trace_outline
from engine.predictions.store import PredictedCell, PredictionStore
from engine.review.unet_mask import THRESHOLD, UnetMask

log = logging.getLogger(__name__)

# The U-Net region is searched in a window this wide around the point, so a
# click on a slide reads a tile, not the slide; a region wider is cut at its edge.
MASK_WINDOW = 1024


@dataclass(eq=False)
class Proposal:
    """A proposed cell outline and nucleus, in the image's level-0 pixels."""

    cytoplasm: np.ndarray
    nucleus: np.ndarray | None
    source: str  # the model that drew it: the instance model's name, or "unet"
    predicted_id: int | None = None
    predicted_class: str | None = None
    probabilities: dict[str, float] | None = None
    score: float | None = None

    def to_cell(
        self, class_name: str, review_state: ReviewState = ReviewState.ACCEPTED
    ) -> Cell:
        """A new annotation cell from the proposal, marked as drawn by a model."""
        return new_cell(
            self.cytoplasm.copy(),
            None if self.nucleus is None else self.nucleus.copy(),
            class_name,
            origin=Origin.MODEL,
            score=self.score,
            review_state=review_state,
            probabilities=None
            if self.probabilities is None
            else dict(self.probabilities),
        )


def propose_outline(
    point_xy: tuple[float, float],
    image_key: str,
    store: PredictionStore,
    run: str,
    image_size: tuple[int, int],
) -> Proposal | None:
    """The outline of the cell under a point, from the run's predicted cells or
    else its U-Net mask; None when neither shows a cell there. `image_size` is
    (width, height)."""
    x, y = float(point_xy[0]), float(point_xy[1])
    width, height = image_size
    if not (0 <= x < width and 0 <= y < height):
        return None
    predictions = store.load_cells(run, image_key)
    if predictions is not None:
        instance = smallest_containing(predictions.cells, (x, y))
        if instance is not None:
            return Proposal(
                cytoplasm=instance.cytoplasm.copy(),
                nucleus=None if instance.nucleus is None else instance.nucleus.copy(),
                source=instance.source,
                predicted_id=instance.id,
                predicted_class=instance.predicted_class,
                probabilities=instance.probabilities,
                score=instance.score,
            )
    mask = UnetMask.open(store, run, image_key, image_size)
    if mask is None:
        return None
    with mask:
        return mask_region_proposal(mask, (x, y))


def _contains(vertices: np.ndarray, point: tuple[float, float]) -> bool:
    contour = np.asarray(vertices, dtype=np.float32).reshape(-1, 1, 2)
    return cv2.pointPolygonTest(contour, point, False) >= 0


def _area(vertices: np.ndarray) -> float:
    x, y = vertices[:, 0], vertices[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def smallest_containing(
    cells: list[PredictedCell], point: tuple[float, float]
) -> PredictedCell | None:
    """The predicted cell with the smallest area among those whose outline holds
    the point (the innermost of overlapping cells), or None."""
    holding = [
        cell
        for cell in cells
        if len(cell.cytoplasm) >= 3 and _contains(cell.cytoplasm, point)
    ]
    if not holding:
        return None
    return min(holding, key=lambda cell: (_area(cell.cytoplasm), cell.id))


def mask_region_proposal(mask: UnetMask, point: tuple[float, float]) -> Proposal | None:
    """The connected cell region of the U-Net mask around a point, and the nucleus
    inside it; None when the point is not on a cell."""
    half = MASK_WINDOW // 2
    left, top, probabilities = mask.read(
        int(point[0]) - half, int(point[1]) - half, MASK_WINDOW, MASK_WINDOW
    )
    column, row = int(point[0]) - left, int(point[1]) - top
    if probabilities.size == 0 or not (
        0 <= row < probabilities.shape[0] and 0 <= column < probabilities.shape[1]
    ):
        return None
    cell_pixels = probabilities[..., 0] >= THRESHOLD
    if not cell_pixels[row, column]:
        return None
    _, labels = cv2.connectedComponents(cell_pixels.astype(np.uint8), connectivity=8)
    region = labels == labels[row, column]
    traced = trace_outline(region)
    if traced is None:
        return None
    offset = np.array([left, top], dtype=np.float64)
    cytoplasm = traced.vertices + offset

    nucleus = None
    nucleus_pixels = (probabilities[..., 1] >= THRESHOLD) & region
    if nucleus_pixels.any():
        if nucleus_pixels[row, column]:
            # The reviewer clicked a nucleus: that one, not the region's largest.
            _, pieces = cv2.connectedComponents(
                nucleus_pixels.astype(np.uint8), connectivity=8
            )
            nucleus_pixels = pieces == pieces[row, column]
        traced_nucleus = trace_outline(nucleus_pixels)
        if traced_nucleus is not None:
            nucleus = fit_inside(traced_nucleus.vertices + offset, cytoplasm)
    log.debug(
        "U-Net proposal at (%.0f, %.0f): %d pixels", point[0], point[1], traced.pixels
    )
    return Proposal(cytoplasm=cytoplasm, nucleus=nucleus, source="unet")
