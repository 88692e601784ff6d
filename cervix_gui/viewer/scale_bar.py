"""The scale bar: a bar of a round length in micrometres in the corner of the view,
when the image says how big its pixels are."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

TARGET_PX = 120.0  # about this long on screen
MARGIN_PX = 14.0
NICE_STEPS = (1.0, 2.0, 5.0)


def nice_length(microns: float) -> float:
    """The largest 1, 2 or 5 times a power of ten that is at most `microns`."""
    if microns <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(microns))
    best = power
    for step in NICE_STEPS:
        if step * power <= microns:
            best = step * power
    return best


def length_label(microns: float) -> str:
    if microns >= 1000:
        return f"{microns / 1000:g} mm"
    return f"{microns:g} \u00b5m"


class ScaleBar:
    """Draws itself over the view's bottom-left corner, in screen pixels."""

    def __init__(self):
        self.microns_per_pixel: float | None = None
        self.last_label = ""  # what the last frame showed, for tests and status

    def bar(self, zoom: float) -> tuple[float, str] | None:
        """(length on screen in pixels, label) at `zoom`; None without a pixel size."""
        if not self.microns_per_pixel or zoom <= 0:
            return None
        microns_per_screen_px = self.microns_per_pixel / zoom
        microns = nice_length(TARGET_PX * microns_per_screen_px)
        return microns / microns_per_screen_px, length_label(microns)

    def paint_on_view(self, painter: QPainter, zoom: float) -> None:
        shown = self.bar(zoom)
        if shown is None:
            self.last_label = ""
            return
        length, label = shown
        self.last_label = label
        device = painter.device()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = QFont()
        font.setPointSizeF(9.0)
        font.setBold(True)
        painter.setFont(font)
        text_width = painter.fontMetrics().horizontalAdvance(label)
        bottom = device.height() - MARGIN_PX
        left = MARGIN_PX
        backdrop = QRectF(left - 8, bottom - 30, max(length, text_width) + 16, 38)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 20, 24, 170))
        painter.drawRoundedRect(backdrop, 4, 4)
        painter.setPen(QPen(QColor("#ffffff"), 3.0))
        painter.drawLine(left, bottom - 4, left + length, bottom - 4)
        painter.drawLine(left, bottom - 9, left, bottom + 1)
        painter.drawLine(left + length, bottom - 9, left + length, bottom + 1)
        painter.drawText(
            QRectF(left, bottom - 30, length, 20), Qt.AlignmentFlag.AlignLeft, label
        )
        painter.restore()
