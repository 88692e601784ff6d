"""The controls the preferences dialog is made of: a colour button, an opacity
slider with its percentage, a tab page, and the list of GPUs torch finds."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

HINT_STYLE = "color: #5f6368;"


def find_gpus() -> list[tuple[str, str]]:
    """(device, description) of each CUDA GPU; empty without one or without torch.
    Torch is imported here, not at start, because it takes seconds."""
    try:
        import torch
    except ImportError as error:
        log.warning("PyTorch cannot be imported, so no GPU is offered: %s", error)
        return []
    try:
        if not torch.cuda.is_available():
            return []
        gpus = []
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            memory = properties.total_memory / 1024**3
            gpus.append((f"cuda:{index}", f"{properties.name}, {memory:.0f} GB"))
        return gpus
    except RuntimeError as error:  # a driver that does not answer
        log.warning("The GPUs could not be listed: %s", error)
        return []


def page(rows: list[tuple[str, QWidget]], *below: QWidget) -> QWidget:
    """A tab: labelled controls at their natural width, explanations under them."""
    page = QWidget()
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
    for label, control in rows:
        form.addRow(label, control)
    layout = QVBoxLayout(page)
    layout.addLayout(form)
    for widget in below:
        if isinstance(widget, QPushButton):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignLeft)
        else:
            layout.addWidget(widget)
    layout.addStretch(1)
    return page


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(HINT_STYLE)
    return label


class ColourButton(QPushButton):
    """A button that shows a colour and lets the user pick another."""

    def __init__(self, colour: QColor, title: str, parent=None):
        super().__init__(parent)
        self.title = title
        self.clicked.connect(self._choose)
        self.set_colour(colour)

    def set_colour(self, colour: QColor) -> None:
        self.colour = QColor(colour)
        swatch = QPixmap(14, 14)
        swatch.fill(self.colour)
        self.setIcon(QIcon(swatch))
        self.setText(self.colour.name())
        self.setToolTip(f"{self.title}: {self.colour.name()}; click to change")

    def _choose(self) -> None:
        chosen = QColorDialog.getColor(self.colour, self, self.title)
        if chosen.isValid():
            self.set_colour(chosen)


class OpacityControl(QWidget):
    """A slider and a percentage that move together."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setMinimumWidth(140)
        self.percent = QSpinBox()
        self.percent.setRange(0, 100)
        self.percent.setSuffix(" %")
        self.slider.valueChanged.connect(self.percent.setValue)
        self.percent.valueChanged.connect(self.slider.setValue)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.percent)

    def opacity(self) -> float:
        return self.percent.value() / 100.0

    def set_opacity(self, opacity: float) -> None:
        self.percent.setValue(round(opacity * 100))
