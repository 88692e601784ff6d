"""Exchange formats: COCO instance JSON, QuPath GeoJSON, labelled mask PNGs and a
per-cell CSV of measurements; COCO and GeoJSON can be imported back."""

from engine.annotations.interchange.coco import export_coco, import_coco
from engine.annotations.interchange.common import (
    ExportError,
    ExportSummary,
    ImportSummary,
)
from engine.annotations.interchange.csv_export import export_csv
from engine.annotations.interchange.geojson import export_geojson, import_geojson
from engine.annotations.interchange.masks import export_masks

EXPORT_FORMATS = ("coco", "geojson", "masks", "csv")

__all__ = [
    "EXPORT_FORMATS",
    "ExportError",
    "ExportSummary",
    "ImportSummary",
    "export_coco",
    "export_csv",
    "export_geojson",
    "export_masks",
    "import_coco",
    "import_geojson",
]
