"""A per-cell CSV of measurements: one row per cell of the dataset.

Columns: image, index, class, group, area, perimeter, nucleus area, N/C ratio,
circularity and mean nuclear intensity, as defined in
`engine.metrics.measurements`. Units are part of the column names (px or µm).
Each image file is read once, for the grey values of its nuclei.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from engine.annotations.dataset import Dataset
from engine.annotations.interchange.common import ExportSummary, write_output
from engine.metrics.measurements import CellMeasurements, measure_image, read_rgb

log = logging.getLogger(__name__)


def csv_columns(microns_per_pixel: float | None = None) -> tuple[str, ...]:
    area = "um2" if microns_per_pixel else "px2"
    length = "um" if microns_per_pixel else "px"
    return (
        "image",
        "index",
        "class",
        "group",
        f"area_{area}",
        f"perimeter_{length}",
        f"nucleus_area_{area}",
        "nc_ratio",
        "circularity",
        "mean_nuclear_intensity",
    )


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def measure_dataset(
    dataset: Dataset, microns_per_pixel: float | None = None
) -> tuple[list[CellMeasurements], list[str]]:
    """Every cell's measurements, and a warning for each image that cannot be read
    (its cells are measured without nuclear intensity)."""
    measurements = []
    warnings = []
    for image in dataset.images:
        if not image.cells:
            continue
        image_rgb = read_rgb(image.path)
        if image_rgb is None:
            warnings.append(
                f"{image.path}: cannot be read by OpenCV; mean nuclear intensity "
                "is left empty for its cells"
            )
        measurements.extend(measure_image(image, image_rgb, microns_per_pixel))
    return measurements, warnings


def export_csv(
    dataset: Dataset, out_path: Path | str, microns_per_pixel: float | None = None
) -> ExportSummary:
    """Write one row of measurements per cell to a CSV file."""
    out_path = Path(out_path)
    measurements, warnings = measure_dataset(dataset, microns_per_pixel)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(csv_columns(microns_per_pixel))
    for figures in measurements:
        writer.writerow(
            (
                figures.image_key,
                figures.cell_index,
                figures.class_name,
                dataset.scheme.group_of(figures.class_name),
                _number(figures.area),
                _number(figures.perimeter),
                _number(figures.nucleus_area),
                _number(figures.nc_ratio),
                _number(figures.circularity),
                _number(figures.mean_nuclear_intensity),
            )
        )
    write_output(out_path, text.getvalue().encode("utf-8"))
    log.info("Wrote measurements of %d cells to %r", len(measurements), str(out_path))
    return ExportSummary(
        files=[out_path],
        images=sum(1 for image in dataset.images if image.cells),
        cells=len(measurements),
        warnings=warnings,
    )
