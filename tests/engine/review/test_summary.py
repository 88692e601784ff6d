"""The review summary: exact counts per image and in total, and its CSV."""

from __future__ import annotations

import csv

from engine.annotations import Dataset
from engine.review import (
    ReviewSource,
    accept,
    collect_candidates,
    reclassify,
    reject,
    summarise,
    write_summary_csv,
)

CLASSES = (
    "superficial-intermediate",
    "parabasal",
    "metaplastic",
    "koilocytotic",
    "dyskeratotic",
)


def review_some(sample) -> None:
    """Accept two abnormal cells (one only a model drew), correct one to a normal
    class, reject one predicted cell, accept one normal cell; then save."""
    dataset = sample.open()
    source = ReviewSource.for_dataset(dataset, sample.run)
    queue = {(c.image_key, c.ref): c for c in collect_candidates(source)}
    decisions = [
        accept(queue[sample.koilo, "cell 1"], dataset),
        accept(queue[sample.koilo, "predicted 3"], dataset),
        reclassify(queue[sample.koilo, "cell 2"], "parabasal", dataset),
        reject(queue[sample.para, "predicted 2"], dataset, source.store),
        accept(queue[sample.para, "cell 1"], dataset),
    ]
    for triage in decisions:
        triage.apply(dataset)
    dataset.save_all("reviewer")


def test_counts_per_image_and_in_total(sample):
    review_some(sample)
    summary = summarise(ReviewSource.for_dataset(Dataset.open(sample.root), sample.run))

    by_key = {counts.image_key: counts for counts in summary.images}
    assert list(by_key) == [
        "im_Dyskeratotic/001",
        "im_Koilocytotic/001",
        "im_Metaplastic/001",
        "im_Parabasal/001",
        "im_Superficial-Intermediate/001",
    ]
    koilo = by_key[sample.koilo]
    assert (koilo.cells, koilo.unreviewed, koilo.accepted) == (9, 6, 2)
    assert (koilo.corrected, koilo.rejected, koilo.confirmed_abnormal) == (1, 0, 2)
    assert dict(koilo.predicted) == {
        "koilocytotic": 1,
        "metaplastic": 1,
        "dyskeratotic": 1,
    }
    assert dict(koilo.reviewed) == {
        "koilocytotic": 1,
        "dyskeratotic": 1,
        "parabasal": 1,
    }
    para = by_key[sample.para]
    assert (para.cells, para.unreviewed, para.accepted, para.rejected) == (11, 9, 1, 1)
    assert para.confirmed_abnormal == 0
    assert dict(para.predicted) == {"parabasal": 1, "superficial-intermediate": 1}
    assert by_key["im_Dyskeratotic/001"].unreviewed == 10

    total = summary.total
    assert (total.cells, total.unreviewed, total.accepted) == (44, 39, 3)
    assert (total.corrected, total.rejected, total.confirmed_abnormal) == (1, 1, 2)
    assert dict(total.reviewed) == {
        "koilocytotic": 1,
        "dyskeratotic": 1,
        "parabasal": 2,
    }
    assert [(c.image_key, c.ref) for c in summary.confirmed_abnormal] == [
        (sample.koilo, "cell 1"),
        (sample.koilo, "cell 9"),
    ]
    assert summary.synthetic and summary.run == sample.run


def test_the_csv_has_a_row_per_image_and_a_total(sample, tmp_path):
    review_some(sample)
    summary = summarise(ReviewSource.for_dataset(Dataset.open(sample.root), sample.run))
    path = write_summary_csv(summary, tmp_path / "out" / "summary.csv")

    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
        header = list(rows[0])
    assert header == [
        "image",
        "cells",
        "unreviewed",
        "accepted",
        "corrected",
        "rejected",
        "confirmed_abnormal",
        *(f"predicted_{name}" for name in CLASSES),
        *(f"reviewed_{name}" for name in CLASSES),
    ]
    assert [row["image"] for row in rows][-1] == "TOTAL"
    assert len(rows) == 6
    koilo = next(row for row in rows if row["image"] == sample.koilo)
    assert koilo["confirmed_abnormal"] == "2"
    assert koilo["reviewed_parabasal"] == "1"
    total = rows[-1]
    for column in header[1:]:
        assert int(total[column]) == sum(int(row[column]) for row in rows[:-1])
    assert (total["cells"], total["unreviewed"], total["reviewed_parabasal"]) == (
        "44",
        "39",
        "2",
    )


def test_a_single_image_summary(sample):
    summary = summarise(
        ReviewSource.for_dataset(sample.open(), sample.run), [sample.para]
    )

    assert [counts.image_key for counts in summary.images] == [sample.para]
    assert summary.total.cells == 11
    assert summary.total.unreviewed == 11
    assert summary.total.confirmed_abnormal == 0
