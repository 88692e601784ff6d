"""The review summary of an image, a dataset or a slide: cells per predicted and
per reviewed class, how many are still to review, how many abnormal cells a
reviewer confirmed; and its CSV export.

Counting rules:

- every cell counts once: an annotation cell, a predicted cell linked to it
  (IoU above 0.5) being the same cell, and each predicted cell of no annotation;
  `cells` = `unreviewed` + `accepted` + `corrected` + `rejected`;
- `predicted_<class>`: cells the classifier put in the class, rejected ones too
  (a cell without class probabilities is in no predicted column);
- `reviewed_<class>`: accepted and corrected cells by their class after review;
- `confirmed_abnormal`: accepted or corrected cells of an abnormal class.

CSV columns, in this order: image, cells, unreviewed, accepted, corrected,
rejected, confirmed_abnormal, then predicted_<class> and reviewed_<class> for
each class of the scheme. One row per image, then a row named TOTAL.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.annotations.classes import ClassScheme
from engine.annotations.interchange.common import write_output
from engine.review.ranking import ReviewCandidate, ReviewSource, collect_candidates

log = logging.getLogger(__name__)

TOTAL_ROW = "TOTAL"
STATE_COLUMNS = ("unreviewed", "accepted", "corrected", "rejected")


@dataclass
class ReviewCounts:
    """The counts of one image, or of all images together."""

    image_key: str
    cells: int = 0
    unreviewed: int = 0
    accepted: int = 0
    corrected: int = 0
    rejected: int = 0
    confirmed_abnormal: int = 0
    predicted: Counter = field(default_factory=Counter)
    reviewed: Counter = field(default_factory=Counter)

    @property
    def reviewed_cells(self) -> int:
        return self.accepted + self.corrected + self.rejected

    def count(self, candidate: ReviewCandidate, scheme: ClassScheme) -> None:
        self.cells += 1
        state = candidate.review_state
        setattr(self, state.value, getattr(self, state.value) + 1)
        if candidate.predicted_class is not None:
            self.predicted[candidate.predicted_class] += 1
        reviewed_class = candidate.reviewed_class
        if reviewed_class is not None:
            self.reviewed[reviewed_class] += 1
            if is_abnormal(scheme, reviewed_class):
                self.confirmed_abnormal += 1

    def add(self, other: ReviewCounts) -> None:
        for name in ("cells", "confirmed_abnormal", *STATE_COLUMNS):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.predicted.update(other.predicted)
        self.reviewed.update(other.reviewed)


@dataclass
class ReviewSummary:
    """Counts per image and in total, and the confirmed abnormal cells."""

    name: str  # the dataset's or the slide's name
    scheme: ClassScheme
    run: str | None
    synthetic: bool
    images: list[ReviewCounts]
    total: ReviewCounts
    confirmed_abnormal: list[ReviewCandidate]
    source_kind: str = "dataset"  # or "slide"

    def class_names(self) -> list[str]:
        """The scheme's classes, then any other class a model or person used."""
        names = list(self.scheme.names)
        extra = set(self.total.predicted) | set(self.total.reviewed)
        return names + sorted(extra - set(names))


def is_abnormal(scheme: ClassScheme, class_name: str) -> bool:
    """Whether a class is in the scheme's abnormal group (unknown classes are not)."""
    try:
        return scheme.is_abnormal(class_name)
    except KeyError:
        return False


def summarise_candidates(
    candidates: Iterable[ReviewCandidate],
    scheme: ClassScheme,
    image_keys: Iterable[str] = (),
    name: str = "",
    run: str | None = None,
    synthetic: bool = False,
    source_kind: str = "dataset",
) -> ReviewSummary:
    """The summary of every given candidate, reviewed or not; `image_keys` adds a
    row for images that have no cells."""
    per_image: dict[str, ReviewCounts] = {key: ReviewCounts(key) for key in image_keys}
    confirmed = []
    for candidate in candidates:
        counts = per_image.setdefault(
            candidate.image_key, ReviewCounts(candidate.image_key)
        )
        counts.count(candidate, scheme)
        reviewed_class = candidate.reviewed_class
        if reviewed_class is not None and is_abnormal(scheme, reviewed_class):
            confirmed.append(candidate)
    total = ReviewCounts(TOTAL_ROW)
    images = [per_image[key] for key in sorted(per_image)]
    for counts in images:
        total.add(counts)
    confirmed.sort(key=ReviewCandidate.sort_key)
    return ReviewSummary(
        name, scheme, run, synthetic, images, total, confirmed, source_kind
    )


def summarise(
    source: ReviewSource, image_keys: Iterable[str] | None = None
) -> ReviewSummary:
    """The review summary of a dataset or a slide (or some of its images)."""
    keys = source.image_keys() if image_keys is None else list(image_keys)
    candidates = collect_candidates(source, keys, include_reviewed=True)
    summary = summarise_candidates(
        candidates,
        source.scheme,
        keys,
        source.name,
        source.run,
        source.synthetic,
        "dataset" if source.dataset is not None else "slide",
    )
    log.info(
        "Review summary of %s: %d cells, %d unreviewed, %d abnormal confirmed",
        source.name,
        summary.total.cells,
        summary.total.unreviewed,
        summary.total.confirmed_abnormal,
    )
    return summary


def csv_columns(class_names: Iterable[str]) -> tuple[str, ...]:
    names = list(class_names)
    return (
        "image",
        "cells",
        *STATE_COLUMNS,
        "confirmed_abnormal",
        *(f"predicted_{name}" for name in names),
        *(f"reviewed_{name}" for name in names),
    )


def _row(counts: ReviewCounts, class_names: list[str]) -> list:
    return [
        counts.image_key,
        counts.cells,
        *(getattr(counts, state) for state in STATE_COLUMNS),
        counts.confirmed_abnormal,
        *(counts.predicted.get(name, 0) for name in class_names),
        *(counts.reviewed.get(name, 0) for name in class_names),
    ]


def summary_csv(summary: ReviewSummary) -> str:
    """The summary as CSV text: one row per image and a TOTAL row."""
    class_names = summary.class_names()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(csv_columns(class_names))
    for counts in summary.images:
        writer.writerow(_row(counts, class_names))
    writer.writerow(_row(summary.total, class_names))
    return text.getvalue()


def write_summary_csv(summary: ReviewSummary, out_path: Path | str) -> Path:
    """Write the summary CSV to a file, whole or not at all."""
    out_path = Path(out_path)
    write_output(out_path, summary_csv(summary).encode("utf-8"))
    log.info("Wrote the review summary of %s to %r", summary.name, str(out_path))
    return out_path
