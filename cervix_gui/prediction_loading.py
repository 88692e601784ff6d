"""Reading what the models predicted for one image from the PredictionStore, in a
worker: the runs stored, the cells of the chosen run indexed for drawing, and
where its U-Net mask and Grad-CAM heatmap are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.images.cell_outlines import CellOutlines
from engine.predictions import ImagePredictions, PredictionStore

NO_RUNS = "No predictions stored yet: run the models on this image first."


@dataclass
class StoredPredictions:
    """What one run holds for one image; `reason` says why something is missing."""

    image_key: str
    runs: list[str]
    run: str | None
    predictions: ImagePredictions | None = None
    outlines: CellOutlines | None = None
    mask_path: Path | None = None
    gradcam_path: Path | None = None
    reason: str = NO_RUNS


def load_predictions(
    store: PredictionStore, image_key: str, run: str | None, class_names: list[str]
) -> StoredPredictions:
    """The stored predictions of `run` (None: the newest) for `image_key`."""
    runs = store.runs()
    if not runs:
        return StoredPredictions(image_key, [], None)
    run = run if run in runs else runs[0]
    predictions = store.load_cells(run, image_key)
    outlines = None
    if predictions is not None and predictions.cells:
        outlines = CellOutlines.from_predictions(predictions.cells, class_names)
        outlines.prepare()
    return StoredPredictions(
        image_key,
        runs,
        run,
        predictions,
        outlines,
        store.find_mask(run, image_key),
        store.find_gradcam(run, image_key),
        reason=f"Run {run!r} has no such prediction for this image.",
    )
