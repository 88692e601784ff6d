"""The printable review report: a valid A4 PDF with the synthetic banner, the
summary and thumbnails of the confirmed abnormal cells."""

from __future__ import annotations

import dataclasses
import re
import zlib

import numpy as np

from engine.annotations import Dataset
from engine.review import (
    DatasetImages,
    ReviewSource,
    accept,
    cell_thumbnail,
    collect_candidates,
    summarise,
    write_report,
)
from engine.review.thumbnails import CELL_COLOUR


def page_text(pdf: bytes) -> str:
    """The text drawn on the pages, from the PDF's compressed content streams."""
    text = []
    start = pdf.find(b">>\nstream\n")
    while start != -1:
        dictionary = pdf[pdf.rfind(b" obj", 0, start) : start]
        length = int(re.search(rb"/Length (\d+)", dictionary)[1])
        begin = start + len(b">>\nstream\n")
        if b"/Subtype /Image" not in dictionary:
            content = zlib.decompress(pdf[begin : begin + length])
            text.extend(re.findall(rb"\((.*?)\) Tj", content))
        start = pdf.find(b">>\nstream\n", begin + length)
    return " ".join(part.decode("latin-1") for part in text)


def reviewed_summary(sample):
    dataset = sample.open()
    source = ReviewSource.for_dataset(dataset, sample.run)
    queue = collect_candidates(source)
    accept(queue[0], dataset).apply(dataset)  # koilocytotic cell 1
    accept(queue[1], dataset).apply(dataset)  # dyskeratotic predicted cell 3
    dataset.save_all("reviewer")
    reopened = Dataset.open(sample.root)
    return reopened, summarise(ReviewSource.for_dataset(reopened, sample.run))


def test_the_report_is_a_pdf_with_the_thumbnails(sample, tmp_path):
    dataset, summary = reviewed_summary(sample)
    path = write_report(
        summary, tmp_path / "report.pdf", DatasetImages(dataset), reviewer="A. Smith"
    )

    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert int(re.search(rb"/Count (\d+)", pdf)[1]) == pages
    assert 1 <= pages <= 3
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf  # A4 in points
    assert pdf.count(b"/Subtype /Image") == 2
    text = page_text(pdf)
    assert "SYNTHETIC SAMPLE - NOT PATIENT DATA" in text
    assert "A. Smith" in text and "smear" in text and sample.run in text
    assert "im_Koilocytotic/001, cell 1" in text
    assert "im_Koilocytotic/001, cell 9" in text


def test_a_real_dataset_has_no_synthetic_banner(sample, tmp_path):
    dataset, summary = reviewed_summary(sample)
    real = dataclasses.replace(summary, synthetic=False)
    path = write_report(real, tmp_path / "report.pdf", DatasetImages(dataset))

    text = page_text(path.read_bytes())
    assert "SYNTHETIC" not in text
    assert "Screening review report" in text


def test_thumbnails_are_limited_and_need_the_images(sample, tmp_path):
    dataset, summary = reviewed_summary(sample)
    one = write_report(
        summary, tmp_path / "one.pdf", DatasetImages(dataset), max_thumbnails=1
    )
    none = write_report(summary, tmp_path / "none.pdf", read_region=None)

    assert one.read_bytes().count(b"/Subtype /Image") == 1
    assert "the first 1 are shown" in page_text(one.read_bytes())
    assert none.read_bytes().count(b"/Subtype /Image") == 0
    assert "Thumbnails were left out" in page_text(none.read_bytes())


def test_a_thumbnail_is_the_cell_with_its_outline(sample):
    dataset = sample.open()
    top = collect_candidates(ReviewSource.for_dataset(dataset, sample.run))[0]
    thumbnail = cell_thumbnail(top, DatasetImages(dataset), size=120)

    assert thumbnail.shape == (120, 120, 3)
    red = np.all(np.abs(thumbnail.astype(int) - CELL_COLOUR) < 40, axis=2)
    rows, columns = np.nonzero(red)
    assert red.sum() > 100
    # The cell fills the middle: its outline stays off the thumbnail's edge and
    # surrounds the centre.
    assert rows.min() > 5 and rows.max() < 115
    assert columns.min() < 60 < columns.max() and rows.min() < 60 < rows.max()
