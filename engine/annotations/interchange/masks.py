"""Labelled mask PNGs: per image, one 16-bit mask of cells and one of nuclei.

In `<image>_cells.png` each cell's pixels hold its cell index (the KK of its
`.dat` files) and background is 0; `<image>_nuclei.png` holds the same index in
the cell's nucleus. Cells are drawn in the image's cell order, so where cells
overlap the later cell is drawn on top and owns the shared pixels; a cell wholly
covered by later ones does not appear in the mask. `labels.csv` maps every
index of every image to its class and group.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import cv2
import numpy as np

from engine.annotations.cells import ImageRecord
from engine.annotations.dataset import Dataset
from engine.annotations.interchange.common import (
    ExportError,
    ExportSummary,
    ensure_folder,
    image_file_stem,
    write_output,
)
from engine.metrics.measurements import fill_polygon

log = logging.getLogger(__name__)

LABELS_FILE = "labels.csv"
LABELS_COLUMNS = ("image", "cells_mask", "nuclei_mask", "label", "class", "group")
MAX_LABEL = np.iinfo(np.uint16).max


def label_masks(image: ImageRecord) -> tuple[np.ndarray, np.ndarray]:
    """The (cells, nuclei) label masks of an image, uint16, height x width."""
    if image.size is None:
        raise ValueError(f"the size of {image.key} is not known")
    width, height = image.size
    cells = np.zeros((height, width), dtype=np.uint16)
    nuclei = np.zeros((height, width), dtype=np.uint16)
    for cell in image.cells:
        if not 0 < cell.index <= MAX_LABEL:
            raise ValueError(
                f"cell {cell.index} of {image.key} does not fit a 16-bit mask"
            )
        fill_polygon(cells, cell.cytoplasm, cell.index)
        if cell.nucleus is not None:
            fill_polygon(nuclei, cell.nucleus, cell.index)
    return cells, nuclei


def _png(mask: np.ndarray, path: Path) -> bytes:
    ok, encoded = cv2.imencode(".png", mask)
    if not ok:
        raise ExportError("OpenCV could not encode the mask as PNG", path)
    return encoded.tobytes()


def export_masks(dataset: Dataset, out_dir: Path | str) -> ExportSummary:
    """Write the label masks of every image and `labels.csv` into `out_dir`."""
    out_dir = ensure_folder(Path(out_dir))
    summary = ExportSummary()
    rows = []
    for image in dataset.images:
        stem = image_file_stem(image.key)
        try:
            cells, nuclei = label_masks(image)
        except ValueError as error:
            summary.warnings.append(f"{image.key}: {error}; no mask written")
            continue
        cells_path = out_dir / f"{stem}_cells.png"
        nuclei_path = out_dir / f"{stem}_nuclei.png"
        summary.files.append(write_output(cells_path, _png(cells, cells_path)))
        summary.files.append(write_output(nuclei_path, _png(nuclei, nuclei_path)))
        summary.images += 1
        summary.cells += len(image.cells)
        for cell in image.cells:
            rows.append(
                (
                    image.key,
                    cells_path.name,
                    nuclei_path.name,
                    cell.index,
                    cell.class_name,
                    dataset.scheme.group_of(cell.class_name),
                )
            )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(LABELS_COLUMNS)
    writer.writerows(rows)
    summary.files.append(
        write_output(out_dir / LABELS_FILE, text.getvalue().encode("utf-8"))
    )
    log.info("Wrote masks of %d images to %r", summary.images, str(out_dir))
    return summary
