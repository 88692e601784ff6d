"""`cervix export DATASET --format coco|geojson|masks|csv --out PATH`: write a
dataset's cells in an exchange format, or their measurements as CSV."""

from __future__ import annotations

from pathlib import Path

from engine.annotations import Dataset
from engine.annotations.interchange import (
    EXPORT_FORMATS,
    ExportError,
    export_coco,
    export_csv,
    export_geojson,
    export_masks,
)

WHAT_IS_WRITTEN = {
    "coco": "COCO instance JSON",
    "geojson": "QuPath GeoJSON, one file per image",
    "masks": "16-bit label masks of cells and nuclei, and labels.csv",
    "csv": "per-cell measurements",
}


# The help listing reads this without importing the module.
SUMMARY = "write cells as COCO, QuPath GeoJSON, label masks, or measurements CSV"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help=SUMMARY,
    )
    parser.add_argument("dataset", type=Path, help="a SIPaKMeD dataset folder")
    parser.add_argument(
        "--format", required=True, choices=EXPORT_FORMATS, help="what to write"
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="a file for coco and csv, a folder for geojson and masks",
    )
    parser.add_argument(
        "--microns-per-pixel",
        type=float,
        default=None,
        metavar="UM",
        help="pixel size: csv and geojson measurements in µm instead of pixels",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.microns_per_pixel is not None and not args.microns_per_pixel > 0:
        raise ExportError(
            f"--microns-per-pixel must be above 0, not {args.microns_per_pixel}"
        )
    out = args.out.expanduser()
    if args.format in ("coco", "csv") and out.is_dir():
        raise ExportError(
            "is a folder", out, f"give a file name for the {args.format} export"
        )
    dataset = Dataset.open(args.dataset)
    if args.format == "coco":
        summary = export_coco(dataset, out)
    elif args.format == "geojson":
        summary = export_geojson(dataset, out, args.microns_per_pixel)
    elif args.format == "masks":
        summary = export_masks(dataset, out)
    else:
        summary = export_csv(dataset, out, args.microns_per_pixel)

    synthetic = " (SYNTHETIC sample)" if dataset.settings.synthetic else ""
    print(
        f"Exported {summary.cells} cells of {summary.images} images from "
        f"{dataset.root}{synthetic} as {WHAT_IS_WRITTEN[args.format]}:"
    )
    if len(summary.files) <= 10:
        for path in summary.files:
            print(f"  {path}")
    else:
        print(f"  {len(summary.files)} files in {out}")
    for warning in summary.warnings:
        print(f"warning: {warning}")
    if dataset.problems:
        print(
            f"{len(dataset.problems)} annotation files have problems; their cells "
            f"are not in the export (see `cervix index {args.dataset}`)"
        )
    return 0
