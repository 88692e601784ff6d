"""The cell inspector: everything known about the selected cell, its class,
origin, score, class probabilities, review state and measurements."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from cervix_gui.palette import ClassPalette
from engine.annotations import Cell
from engine.metrics.measurements import CellMeasurements

NO_VALUE = "\u2014"
FIELDS = (
    ("cell", "Cell"),
    ("class", "Class"),
    ("origin", "Origin"),
    ("score", "Score"),
    ("probabilities", "Probabilities"),
    ("review", "Review"),
    ("area", "Area"),
    ("perimeter", "Perimeter"),
    ("nucleus_area", "Nucleus area"),
    ("nc_ratio", "N/C ratio"),
    ("circularity", "Circularity"),
    ("intensity", "Mean nuclear intensity"),
)


def _number(value: float | None, digits: int = 1) -> str:
    return NO_VALUE if value is None else f"{value:,.{digits}f}"


class CellInspector(QWidget):
    """A form of the selected cell's facts; a hint when nothing is selected."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.hint = QLabel("Click a cell in the image, the table or the plot.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #5f6368;")
        self.swatch = QLabel()
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.values: dict[str, QLabel] = {}
        for name, title in FIELDS:
            label = QLabel(NO_VALUE)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self.values[name] = label
            form.addRow(f"{title}:", label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.hint)
        layout.addLayout(form)
        layout.addStretch(1)

    def value(self, name: str) -> str:
        """The text shown for a field, e.g. "class" or "nc_ratio"."""
        return self.values[name].text()

    def show_cell(
        self,
        cell: Cell | None,
        palette: ClassPalette | None,
        measurements: CellMeasurements | None = None,
        image_key: str = "",
    ) -> None:
        """Show `cell` (None: nothing selected) and its measurements when known."""
        self.hint.setVisible(cell is None)
        if cell is None or palette is None:
            for label in self.values.values():
                label.setText(NO_VALUE)
            return
        values = self.values
        values["cell"].setText(
            f"{cell.index} in {image_key}" if image_key else str(cell.index)
        )
        colour = palette.colour(cell.class_name).name()
        label = palette.label(cell.class_name)
        values["class"].setText(f'<span style="color:{colour}">\u25cf</span> {label}')
        values["origin"].setText(cell.origin.value)
        values["score"].setText(_number(cell.score, 3))
        if cell.probabilities:
            ranked = sorted(cell.probabilities.items(), key=lambda item: -item[1])
            values["probabilities"].setText(
                "<br>".join(
                    f"{palette.label(name)}: {p * 100:.1f}%" for name, p in ranked
                )
            )
        else:
            values["probabilities"].setText(NO_VALUE)
        values["review"].setText(cell.review_state.value)
        self._show_measurements(measurements)

    def _show_measurements(self, measured: CellMeasurements | None) -> None:
        values = self.values
        if measured is None:
            for name in (
                "area",
                "perimeter",
                "nucleus_area",
                "nc_ratio",
                "circularity",
            ):
                values[name].setText("measuring\u2026")
            values["intensity"].setText("measuring\u2026")
            return
        area_unit = "\u00b5m\u00b2" if measured.microns_per_pixel else "px\u00b2"
        length_unit = "\u00b5m" if measured.microns_per_pixel else "px"
        values["area"].setText(f"{_number(measured.area)} {area_unit}")
        values["perimeter"].setText(f"{_number(measured.perimeter)} {length_unit}")
        nucleus = measured.nucleus_area
        values["nucleus_area"].setText(
            NO_VALUE if nucleus is None else f"{_number(nucleus)} {area_unit}"
        )
        values["nc_ratio"].setText(_number(measured.nc_ratio, 3))
        values["circularity"].setText(_number(measured.circularity, 3))
        values["intensity"].setText(_number(measured.mean_nuclear_intensity, 1))
