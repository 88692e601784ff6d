"""`cervix predict --model M [--model M ...] --input PATH`: run the models on a
dataset, an image or a slide into the prediction store.

A progress line goes to stderr; the summary (cells per predicted class, the
most suspicious cells and where they are) to stdout, or as JSON with --json.
Ctrl+C stops between batches and leaves no half-written file.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

from engine.errors import CervixError
from engine.inference import (
    CancelToken,
    ImageDone,
    InferencePipeline,
    PipelineSummary,
    TilesProgress,
    load_predictor,
    run_name_for,
)
from engine.inference.export import (
    export_predictions_coco,
    export_predictions_geojson,
)
from engine.inference.inputs import resolve_input

EXPORTS = ("geojson", "coco")


# The help listing reads this without importing the module.
SUMMARY = "run the models on a dataset, an image or a slide"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help=SUMMARY,
        description="Find, outline and classify cells with any of the three models. "
        "A dataset's results go into its prediction store (DATA/.cervix/"
        "predictions/RUN); an image's or a slide's into --out, or beside it.",
    )
    parser.add_argument(
        "--model",
        type=Path,
        action="append",
        required=True,
        metavar="M",
        help="a checkpoint folder (or training run); repeat for several models",
    )
    parser.add_argument(
        "--input", type=Path, required=True, help="a dataset folder, image or slide"
    )
    parser.add_argument(
        "--out", type=Path, help="prediction store folder for an image or slide"
    )
    parser.add_argument("--run", help="name of the run (default: models and time)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    parser.add_argument("--batch-size", type=int, help="tiles or cells per batch")
    parser.add_argument(
        "--gradcam", action="store_true", help="store the classifier's Grad-CAM maps"
    )
    parser.add_argument(
        "--scale",
        type=float,
        help="resize the image by this factor for the segmentation models "
        "(default: from pixel sizes, or as training scaled cluster images)",
    )
    parser.add_argument(
        "--overlap", type=float, default=0.25, help="tile overlap, 0 to 0.5"
    )
    parser.add_argument(
        "--export",
        choices=EXPORTS,
        action="append",
        default=[],
        help="also write the cells as QuPath GeoJSON or COCO (repeatable)",
    )
    parser.add_argument(
        "--top", type=int, default=10, metavar="N", help="most suspicious cells shown"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


class ProgressLine:
    """One line on stderr that follows the tiles of the image being analysed."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.last_plain = 0.0

    def __call__(self, event) -> None:
        if isinstance(event, TilesProgress):
            line = (
                f"image {event.image_index + 1}/{event.image_count} "
                f"{event.image_key}: {event.done}/{event.total} tiles, "
                f"{event.cells_so_far} cells"
            )
            if self.live:
                self.stream.write("\r" + line + "\x1b[K")
                self.stream.flush()
            elif time.monotonic() - self.last_plain > 5:
                self.last_plain = time.monotonic()
                print(line, file=self.stream, flush=True)
        elif isinstance(event, ImageDone):
            if self.live:
                self.stream.write("\r\x1b[K")
            print(
                f"image {event.image_index + 1}/{event.image_count} {event.key}: "
                f"{event.cells} cells in {event.seconds:.1f} s",
                file=self.stream,
                flush=True,
            )


def _predictors(args) -> dict:
    by_task: dict = {}
    for folder in args.model:
        predictor = load_predictor(folder, args.device, args.batch_size)
        if predictor.task in by_task:
            raise CervixError(
                f"two {predictor.task} models were given",
                folder,
                "give at most one model of each task",
            )
        by_task[predictor.task] = predictor
    return by_task


def run(args) -> int:
    models = _predictors(args)
    only_classifier = set(models) == {"classifier"}
    source = resolve_input(args.input, args.out, with_cells=only_classifier)
    if only_classifier and not any(job.cells for job in source.jobs):
        raise CervixError(
            "has no outlined cells for a classifier on its own to classify",
            args.input,
            "add a U-Net or Mask R-CNN model to find the cells, or give an image "
            "with its cells (a dataset, or NAME.cells.geojson beside the image)",
        )
    if not source.jobs:
        raise CervixError(
            "holds no images to analyse",
            args.input,
            "give a dataset with cluster images, an image or a slide",
        )
    cancel = CancelToken()

    def on_interrupt(signum, frame):
        if cancel.cancelled:
            raise KeyboardInterrupt
        print("\nStopping after this batch (Ctrl+C again to abort)", file=sys.stderr)
        cancel.cancel()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        pipeline = InferencePipeline(
            classifier=models.get("classifier"),
            unet=models.get("unet"),
            maskrcnn=models.get("maskrcnn"),
            batch_size=args.batch_size,
            gradcam=args.gradcam,
            overlap=args.overlap,
            scale=args.scale,
            cancel=cancel,
            on_event=ProgressLine(),
            top=args.top,
        )
        run_name = args.run or run_name_for(pipeline.predictors)
        summary = pipeline.run(source.jobs, source.store, run_name)
    finally:
        signal.signal(signal.SIGINT, previous)

    exported = []
    if args.export and summary.images:
        folder = args.out if args.out and source.dataset is not None else None
        folder = folder or source.store.root / summary.run / "export"
        if "geojson" in args.export:
            exported += export_predictions_geojson(
                source.store, summary.run, folder / "geojson", source.scheme
            ).files
        if "coco" in args.export:
            exported += export_predictions_coco(
                source.store,
                summary.run,
                folder / "predictions.coco.json",
                source.scheme,
            ).files
    if args.json:
        data = summary.to_json()
        data["exported"] = [str(path) for path in exported]
        print(json.dumps(data, indent=2))
    else:
        print_summary(summary, exported)
    return 130 if summary.cancelled else 0


def print_summary(summary: PipelineSummary, exported: list[Path]) -> None:
    state = "Cancelled" if summary.cancelled else "Done"
    print(
        f"{state}: run {summary.run}, {summary.images} images, {summary.cells} "
        f"cells in {summary.seconds:.1f} s -> {Path(summary.store) / summary.run}"
    )
    if summary.class_counts:
        print(f"\n{'predicted class':<26}  {'cells':>6}")
        for name, count in summary.class_counts.items():
            print(f"{name:<26}  {count:>6}")
    if summary.suspicious:
        groups = ", ".join(summary.abnormal_classes)
        print(f"\nMost suspicious cells (abnormal: {groups})")
        print(
            f"{'image':<30}  {'cell':>5}  {'x':>8}  {'y':>8}  "
            f"{'class':<24}  {'abnormal':>8}"
        )
        for cell in summary.suspicious:
            print(
                f"{cell.image_key:<30}  {cell.cell_id:>5}  {cell.x:>8.1f}  "
                f"{cell.y:>8.1f}  {cell.predicted_class or '-':<24}  "
                f"{cell.abnormal_probability:>8.3f}"
            )
    for line in summary.skipped:
        print(f"skipped {line}")
    for path in exported:
        print(f"wrote {path}")
