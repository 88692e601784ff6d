"""`cervix import FORMAT ...`: bring a public dataset or an interchange file in.

`herlev SOURCE DEST` and `isbi2014 SOURCE DEST` convert a whole public dataset
into a new SIPaKMeD-layout folder; `coco DATASET PATH` and `geojson DATASET
PATH` add the cells of a file to an existing dataset.
"""

from __future__ import annotations

import json
from pathlib import Path

# The help listing reads this without importing the module.
SUMMARY = "convert Herlev or ISBI 2014 into a dataset, or add COCO/GeoJSON cells"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "import",
        help=SUMMARY,
        description=__doc__,
    )
    formats = parser.add_subparsers(dest="format", metavar="FORMAT", required=True)

    # (name, article, title): the article goes only where the sentence needs one.
    for name, article, title in (
        ("herlev", "a", "Herlev Pap smear"),
        ("isbi2014", "an", "ISBI 2014"),
    ):
        conversion = formats.add_parser(
            name,
            help=f"convert {article} {title} copy into a new SIPaKMeD-layout dataset",
        )
        conversion.add_argument(
            "source", type=Path, metavar="SOURCE", help=f"the {title} folder"
        )
        conversion.add_argument(
            "destination",
            type=Path,
            metavar="DEST",
            help="a new (or empty) folder for the converted dataset",
        )
        conversion.add_argument(
            "--json", action="store_true", help="print the report as JSON"
        )

    for name, title in (("coco", "COCO instance JSON"), ("geojson", "QuPath GeoJSON")):
        addition = formats.add_parser(
            name, help=f"add the cells of a {title} file to a dataset"
        )
        addition.add_argument(
            "dataset", type=Path, metavar="DATASET", help="a SIPaKMeD dataset folder"
        )
        addition.add_argument(
            "path", type=Path, metavar="PATH", help=f"the {title} file"
        )
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.format == "herlev":
        from engine.annotations.importers import import_herlev

        return _print_report(import_herlev(args.source, args.destination), args.json)
    if args.format == "isbi2014":
        from engine.annotations.importers import import_isbi2014

        return _print_report(import_isbi2014(args.source, args.destination), args.json)
    if args.format == "coco":
        from engine.annotations.interchange.coco import import_coco

        return _print_summary(import_coco(args.dataset, args.path))
    if args.format == "geojson":
        from engine.annotations.interchange.geojson import import_geojson

        return _print_summary(import_geojson(args.dataset, args.path))
    raise ValueError(f"unknown import format {args.format!r}")


def _print_report(report, as_json: bool) -> int:
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.describe())
    return 0


def _print_summary(summary) -> int:
    """Print what an interchange import added; non-zero when cells could not be
    saved, so a script notices the loss."""
    print(summary.describe())
    for warning in summary.warnings:
        print(f"  warning: {warning}")
    for error in summary.errors:
        print(f"  error: {error}")
    return 1 if summary.errors else 0
