"""`cervix review summary|queue PATH`: the review summary of a dataset or a slide
(as a table, CSV or a PDF report) and its queue of cells to review, the most
suspicious first, or with `--training` the cells most worth labelling."""

from __future__ import annotations

from pathlib import Path

from engine.annotations import Dataset
from engine.predictions.store import PredictionStore
from engine.review.active import training_queue
from engine.review.errors import ReviewError
from engine.review.ranking import ReviewSource, collect_candidates
from engine.review.report import write_report
from engine.review.summary import STATE_COLUMNS, summarise, write_summary_csv
from engine.review.thumbnails import region_reader_for

# The help listing reads this without importing the module.
SUMMARY = "review summary, report and queue of a dataset or a slide"


def register(subparsers) -> None:
    parser = subparsers.add_parser("review", help=SUMMARY)
    actions = parser.add_subparsers(dest="review_command", metavar="ACTION")
    actions.required = True

    summary = actions.add_parser(
        "summary", help="cells per class, still to review, abnormal cells confirmed"
    )
    _add_source_arguments(summary)
    summary.add_argument("--csv", type=Path, metavar="OUT", help="write a CSV file")
    summary.add_argument(
        "--pdf", type=Path, metavar="OUT", help="write a printable A4 PDF report"
    )
    summary.add_argument(
        "--reviewer", help="the name on the report (default: the login name)"
    )
    summary.set_defaults(func=run_summary)

    queue = actions.add_parser(
        "queue", help="the cells to review, most suspicious first"
    )
    _add_source_arguments(queue)
    queue.add_argument(
        "--top", type=int, default=20, metavar="N", help="show N cells (default 20)"
    )
    queue.add_argument(
        "--training",
        action="store_true",
        help="order by what would teach the models most: uncertain cells and "
        "cells where models and annotations disagree",
    )
    queue.add_argument(
        "--include-reviewed", action="store_true", help="keep reviewed cells in"
    )
    queue.set_defaults(func=run_queue)


def _add_source_arguments(parser) -> None:
    parser.add_argument(
        "path", type=Path, help="a SIPaKMeD dataset folder, or a slide file"
    )
    parser.add_argument(
        "--run", help="the model run whose predictions to review (see its folder)"
    )


def _open_source(path: Path, run: str | None, need_run: bool) -> ReviewSource:
    path = path.expanduser()
    if path.is_file():
        if run is None:
            raise ReviewError(
                "is a slide; its review needs a model run",
                path,
                f"add --run with one of: {_runs(PredictionStore.for_slide(path))}",
            )
        return ReviewSource.for_slide(path, run)
    dataset = Dataset.open(path)
    if run is None and need_run:
        raise ReviewError(
            "the queue ranks cells by a model run's predictions",
            path,
            f"add --run with one of: {_runs(PredictionStore.for_dataset(path))}",
        )
    return ReviewSource.for_dataset(dataset, run)


def _runs(store: PredictionStore) -> str:
    return ", ".join(store.runs()) or "none stored yet (run the models first)"


def _title(source: ReviewSource) -> str:
    title = str(source.dataset.root if source.dataset else source.slide_path)
    if source.synthetic:
        title += " (SYNTHETIC sample, not patient data)"
    return title + (f", run {source.run}" if source.run else ", saved annotations")


def run_summary(args) -> int:
    source = _open_source(args.path, args.run, need_run=False)
    summary = summarise(source)
    print(_title(source))
    width = max([len(c.image_key) for c in summary.images] + [5])
    headings = ("cells", *STATE_COLUMNS, "abnormal")
    print(f"{'image':<{width}}  " + "  ".join(f"{h:>10}" for h in headings))
    for counts in [*summary.images, summary.total]:
        figures = (
            counts.cells,
            *(getattr(counts, state) for state in STATE_COLUMNS),
            counts.confirmed_abnormal,
        )
        print(f"{counts.image_key:<{width}}  " + "  ".join(f"{f:>10}" for f in figures))
    print("(abnormal: abnormal cells a reviewer accepted or corrected)")
    names = summary.class_names()
    class_width = max(len(name) for name in names)
    print(f"\n{'class':<{class_width}}  {'predicted':>9}  {'reviewed':>8}")
    for name in names:
        print(
            f"{name:<{class_width}}  {summary.total.predicted.get(name, 0):>9}  "
            f"{summary.total.reviewed.get(name, 0):>8}"
        )
    if args.csv is not None:
        print(f"\nWrote {write_summary_csv(summary, args.csv.expanduser())}")
    if args.pdf is not None:
        reader = region_reader_for(source)
        try:
            path = write_report(summary, args.pdf.expanduser(), reader, args.reviewer)
        finally:
            if reader is not None:
                reader.close()
        print(f"Wrote {path}")
    return 0


def run_queue(args) -> int:
    if args.top < 1:
        raise ReviewError(f"--top must be 1 or more, not {args.top}")
    source = _open_source(args.path, args.run, need_run=True)
    if args.training:
        queue = training_queue(source, include_reviewed=args.include_reviewed)
        what = "cells worth labelling"
    else:
        queue = collect_candidates(source, include_reviewed=args.include_reviewed)
        what = "cells to review"
    print(_title(source))
    print(f"{len(queue)} {what}, the first {min(args.top, len(queue))} shown:")
    shown = queue[: args.top]
    width = max([len(_candidate(item).image_key) for item in shown] + [5])
    if args.training:
        print(f"{'rank':>4}  {'image':<{width}}  {'cell':<13}  {'priority':>8}  why")
        for rank, item in enumerate(shown, 1):
            candidate = item.candidate
            print(
                f"{rank:>4}  {candidate.image_key:<{width}}  {candidate.ref:<13}  "
                f"{item.priority:>8.3f}  {'; '.join(item.reasons) or '-'}"
            )
        return 0
    print(
        f"{'rank':>4}  {'image':<{width}}  {'cell':<13}  {'predicted':<24}  "
        f"{'abnormal':>8}  {'state':<10}  centre (x, y)"
    )
    for rank, candidate in enumerate(shown, 1):
        x, y = candidate.centre
        print(
            f"{rank:>4}  {candidate.image_key:<{width}}  {candidate.ref:<13}  "
            f"{candidate.predicted_class or '-':<24}  "
            f"{candidate.abnormal_probability:>8.3f}  "
            f"{candidate.review_state.value:<10}  {x:.0f}, {y:.0f}"
        )
    return 0


def _candidate(item):
    return getattr(item, "candidate", item)
