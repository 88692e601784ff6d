"""The printable review report: one A4 PDF with the summary of a dataset or a
slide, a bar chart of cells per class and thumbnails of the abnormal cells a
reviewer confirmed, as a lab would file it."""

from __future__ import annotations

import io
import logging
from datetime import date as date_type
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from engine import __version__
from engine.annotations.interchange.common import write_output
from engine.annotations.project import current_user
from engine.review.summary import ReviewCounts, ReviewSummary
from engine.review.thumbnails import RegionReader, cell_thumbnail, png_bytes

log = logging.getLogger(__name__)

MARGIN = 15.0  # mm
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
HEADING_FILL = (222, 226, 230)
STRIPE_FILL = (245, 246, 248)
WARNING_FILL = (200, 35, 51)
PREDICTED_BAR = (134, 166, 204)
REVIEWED_BAR = (31, 78, 140)
THUMBNAILS_PER_ROW = 5
THUMBNAIL_PIXELS = 200


def _latin(text: str) -> str:
    """Text the PDF's built-in fonts can print (they hold Latin-1 only)."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text shortened at its start (an image key's distinctive end stays) so
    that it fits `width` in the current font."""
    text = _latin(text)
    if pdf.get_string_width(text) <= width - 1:
        return text
    while text and pdf.get_string_width("..." + text) > width - 1:
        text = text[1:]
    return "..." + text


class _ReportPDF(FPDF):
    """An A4 page with a running footer that names the report and the page."""

    def __init__(self, subject: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.subject = subject
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 5)

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y() - 2, self.w - MARGIN, self.get_y() - 2)
        self.set_font("Helvetica", size=7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, _latin(f"Cervix Studio {__version__} - {self.subject}"))
        self.set_x(MARGIN)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def write_report(
    summary: ReviewSummary,
    out_path: Path | str,
    read_region: RegionReader | None = None,
    reviewer: str | None = None,
    report_date: date_type | None = None,
    max_thumbnails: int = 60,
) -> Path:
    """Write the review report of a summary as an A4 PDF. Thumbnails of confirmed
    abnormal cells are cut through `read_region`; without it they are left out."""
    out_path = Path(out_path)
    data = report_pdf(
        summary, read_region, reviewer, report_date, max_thumbnails=max_thumbnails
    )
    write_output(out_path, data)
    log.info("Wrote the review report of %s to %r", summary.name, str(out_path))
    return out_path


def report_pdf(
    summary: ReviewSummary,
    read_region: RegionReader | None = None,
    reviewer: str | None = None,
    report_date: date_type | None = None,
    max_thumbnails: int = 60,
) -> bytes:
    """The review report as PDF bytes."""
    pdf = _ReportPDF(f"Screening review of {summary.name}")
    pdf.set_title(_latin(f"Screening review report: {summary.name}"))
    pdf.set_author(_latin(reviewer or current_user()))
    pdf.set_creator(f"Cervix Studio {__version__}")
    pdf.add_page()
    _title_block(
        pdf, summary, reviewer or current_user(), report_date or date_type.today()
    )
    if summary.synthetic:
        _synthetic_banner(pdf)
    _key_figures(pdf, summary.total)
    _class_section(pdf, summary)
    _image_table(pdf, summary)
    _thumbnail_section(pdf, summary, read_region, max_thumbnails)
    _sign_off(pdf, reviewer or current_user())
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.set_text_color(*INK)
    pdf.cell(0, 7, _latin(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*RULE)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(2)


def _title_block(pdf: FPDF, summary: ReviewSummary, reviewer: str, day) -> None:
    pdf.set_font("Helvetica", size=9)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, "CERVIX STUDIO - CERVICAL CYTOLOGY", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 18)
    pdf.set_text_color(*INK)
    pdf.cell(0, 10, "Screening review report", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows = (
        (summary.source_kind.capitalize(), summary.name),
        ("Model run", summary.run or "none (saved annotations only)"),
        ("Date", day.isoformat()),
        ("Reviewer", reviewer),
        ("Images", str(len(summary.images))),
    )
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 9.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(28, 6, label)
        pdf.set_font("Helvetica", size=9.5)
        pdf.set_text_color(*INK)
        pdf.cell(0, 6, _latin(value), new_x="LMARGIN", new_y="NEXT")


def _synthetic_banner(pdf: FPDF) -> None:
    pdf.ln(3)
    top = pdf.get_y()
    width = pdf.w - 2 * MARGIN
    pdf.set_fill_color(*WARNING_FILL)
    pdf.rect(MARGIN, top, width, 15, style="F")
    pdf.set_xy(MARGIN, top + 1.5)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(width, 7, "SYNTHETIC SAMPLE - NOT PATIENT DATA", align="C")
    pdf.set_xy(MARGIN, top + 8)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(
        width,
        5,
        "Drawn by Cervix Studio's own code from random numbers. "
        "Not for diagnosis or for judging a model.",
        align="C",
    )
    pdf.set_xy(MARGIN, top + 17)


def _key_figures(pdf: FPDF, total: ReviewCounts) -> None:
    _heading(pdf, "Summary")
    figures = (
        ("Cells", total.cells),
        ("Reviewed", total.reviewed_cells),
        ("Still to review", total.unreviewed),
        ("Rejected", total.rejected),
        ("Abnormal confirmed", total.confirmed_abnormal),
    )
    gap = 3.0
    width = (pdf.w - 2 * MARGIN - gap * (len(figures) - 1)) / len(figures)
    top = pdf.get_y()
    for position, (label, value) in enumerate(figures):
        left = MARGIN + position * (width + gap)
        highlight = label == "Abnormal confirmed" and value > 0
        pdf.set_draw_color(*(WARNING_FILL if highlight else RULE))
        pdf.set_line_width(0.4 if highlight else 0.2)
        pdf.rect(left, top, width, 18)
        pdf.set_xy(left, top + 2)
        pdf.set_font("Helvetica", "B", 16)
        pdf.set_text_color(*(WARNING_FILL if highlight else INK))
        pdf.cell(width, 8, str(value), align="C")
        pdf.set_xy(left, top + 11)
        pdf.set_font("Helvetica", size=8)
        pdf.set_text_color(*MUTED)
        pdf.cell(width, 5, label, align="C")
    pdf.set_line_width(0.2)
    pdf.set_xy(MARGIN, top + 21)


def _table_style(pdf: FPDF) -> dict:
    pdf.set_font("Helvetica", size=8.5)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    # Table rows are filled with the page's fill colour; the bars left theirs.
    pdf.set_fill_color(255, 255, 255)
    return {
        "borders_layout": "HORIZONTAL_LINES",
        "cell_fill_color": STRIPE_FILL,
        "cell_fill_mode": "ROWS",
        "headings_style": FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
        "line_height": 5.5,
        "width": pdf.w - 2 * MARGIN,
    }


def _class_section(pdf: FPDF, summary: ReviewSummary) -> None:
    _heading(pdf, "Cells per class")
    names = summary.class_names()
    total = summary.total
    with pdf.table(
        col_widths=(60, 35, 40, 45),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT"),
        **_table_style(pdf),
    ) as table:
        table.row(("Class", "Group", "Predicted by the model", "After review"))
        for name in names:
            table.row(
                (
                    _latin(_label(summary, name)),
                    _group(summary, name),
                    str(total.predicted.get(name, 0)),
                    str(total.reviewed.get(name, 0)),
                )
            )
    pdf.ln(4)
    _bar_chart(pdf, summary, names)


def _label(summary: ReviewSummary, name: str) -> str:
    try:
        return summary.scheme.by_name(name).label
    except KeyError:
        return name


def _group(summary: ReviewSummary, name: str) -> str:
    try:
        return summary.scheme.group_of(name)
    except KeyError:
        return "-"


def _bar_chart(pdf: FPDF, summary: ReviewSummary, names: list[str]) -> None:
    """Two bars per class, predicted and after review, drawn as rectangles."""
    bar, gap, label_width = 4.0, 3.0, 45.0
    height = len(names) * (2 * bar + gap) + 14
    if pdf.get_y() + height > pdf.h - MARGIN - 5:
        pdf.add_page()
    top = pdf.get_y()
    chart_left = MARGIN + label_width
    chart_width = pdf.w - MARGIN - chart_left - 14
    total = summary.total
    largest = max(
        [total.predicted.get(n, 0) for n in names]
        + [total.reviewed.get(n, 0) for n in names]
        + [1]
    )
    y = top
    for name in names:
        pdf.set_font("Helvetica", size=8.5)
        pdf.set_text_color(*INK)
        pdf.set_xy(MARGIN, y)
        pdf.cell(label_width - 2, 2 * bar, _latin(_label(summary, name)), align="R")
        for offset, counts, colour in (
            (0.0, total.predicted, PREDICTED_BAR),
            (bar, total.reviewed, REVIEWED_BAR),
        ):
            value = counts.get(name, 0)
            length = chart_width * value / largest
            pdf.set_fill_color(*colour)
            if length > 0:
                pdf.rect(chart_left, y + offset, length, bar - 0.6, style="F")
            pdf.set_font("Helvetica", size=7)
            pdf.set_text_color(*MUTED)
            pdf.set_xy(chart_left + length + 1, y + offset - 0.3)
            pdf.cell(12, bar - 0.6, str(value))
        y += 2 * bar + gap
    pdf.set_draw_color(*MUTED)
    pdf.line(chart_left, top - 1, chart_left, y - gap + 1)
    legend_y = y + 1
    for position, (text, colour) in enumerate(
        (("predicted by the model", PREDICTED_BAR), ("after review", REVIEWED_BAR))
    ):
        left = chart_left + position * 50
        pdf.set_fill_color(*colour)
        pdf.rect(left, legend_y + 1, 4, 3, style="F")
        pdf.set_xy(left + 5, legend_y)
        pdf.set_font("Helvetica", size=7.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(40, 5, text)
    pdf.set_xy(MARGIN, legend_y + 8)


def _image_table(pdf: FPDF, summary: ReviewSummary) -> None:
    rows_height = (len(summary.images) + 2) * 5.5 + 15
    fits_a_page = rows_height < pdf.h - 2 * MARGIN - 10
    if fits_a_page and pdf.get_y() + rows_height > pdf.h - MARGIN - 5:
        pdf.add_page()  # a short table is not split over two pages
    _heading(pdf, "Per image")
    columns = ("Image", "Cells", "To review", "Accepted", "Corrected", "Rejected")
    with pdf.table(
        col_widths=(58, 15, 19, 19, 20, 18, 31),
        text_align=("LEFT", *("RIGHT",) * 6),
        **_table_style(pdf),
    ) as table:
        table.row((*columns, "Abnormal confirmed"))
        for counts in [*summary.images, summary.total]:
            style = FontFace(emphasis="BOLD") if counts is summary.total else None
            table.row(
                (
                    _latin(counts.image_key),
                    str(counts.cells),
                    str(counts.unreviewed),
                    str(counts.accepted),
                    str(counts.corrected),
                    str(counts.rejected),
                    str(counts.confirmed_abnormal),
                ),
                style=style,
            )


def _thumbnail_section(
    pdf: FPDF,
    summary: ReviewSummary,
    read_region: RegionReader | None,
    max_thumbnails: int,
) -> None:
    _heading(pdf, "Confirmed abnormal cells")
    pdf.set_font("Helvetica", size=8.5)
    pdf.set_text_color(*MUTED)
    cells = summary.confirmed_abnormal
    if not cells:
        pdf.multi_cell(0, 5, "No abnormal cell has been confirmed by a reviewer yet.")
        return
    if read_region is None:
        pdf.multi_cell(0, 5, "Thumbnails were left out: the images were not at hand.")
        return
    shown = cells[:max_thumbnails]
    note = f"{len(cells)} cells, most suspicious first"
    if len(shown) < len(cells):
        note += f"; the first {len(shown)} are shown"
    pdf.multi_cell(0, 5, note + ". Red: cell outline; blue: nucleus.")
    pdf.ln(2)
    gap = 4.0
    side = (pdf.w - 2 * MARGIN - gap * (THUMBNAILS_PER_ROW - 1)) / THUMBNAILS_PER_ROW
    caption = 9.0
    for position, candidate in enumerate(shown):
        column = position % THUMBNAILS_PER_ROW
        if column == 0:
            if position:
                pdf.set_y(pdf.get_y() + side + caption + gap)
            if pdf.get_y() + side + caption > pdf.h - MARGIN - 5:
                pdf.add_page()
        top = pdf.get_y()
        left = MARGIN + column * (side + gap)
        thumbnail = cell_thumbnail(candidate, read_region, THUMBNAIL_PIXELS)
        if thumbnail is None:
            pdf.set_draw_color(*RULE)
            pdf.rect(left, top, side, side)
        else:
            pdf.image(io.BytesIO(png_bytes(thumbnail)), x=left, y=top, w=side, h=side)
        pdf.set_xy(left, top + side + 0.5)
        pdf.set_font("Helvetica", "B", 7)
        pdf.set_text_color(*INK)
        label = _label(summary, candidate.reviewed_class or "")
        pdf.cell(side, 4, _fit(pdf, label, side))
        pdf.set_xy(left, top + side + 4.3)
        pdf.set_font("Helvetica", size=6.5)
        pdf.set_text_color(*MUTED)
        where = f"{candidate.image_key}, {candidate.ref}"
        pdf.cell(side, 4, _fit(pdf, where, side))
        pdf.set_xy(MARGIN, top)
    pdf.set_y(pdf.get_y() + side + caption + gap)


def _sign_off(pdf: FPDF, reviewer: str) -> None:
    """Lines for the reviewer's signature, as a filed report carries."""
    if pdf.get_y() + 30 > pdf.h - MARGIN - 5:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    width = (pdf.w - 2 * MARGIN - 10) / 3
    pdf.set_draw_color(*MUTED)
    for position, label in enumerate(
        (f"Reviewed by ({reviewer})", "Signature", "Date")
    ):
        left = MARGIN + position * (width + 5)
        pdf.line(left, top + 12, left + width, top + 12)
        pdf.set_xy(left, top + 13)
        pdf.set_font("Helvetica", size=7.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(width, 4, _fit(pdf, label, width))
    pdf.set_xy(MARGIN, top + 20)
