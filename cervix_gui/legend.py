"""The legend: each class of the dataset with its colour, group and the number of
its cells in the shown image."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from cervix_gui.palette import ClassPalette, swatch_icon

SWATCH_SIZE = 18


class ClassLegend(QWidget):
    """One row per class: swatch, name, group, cells of that class in this image."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(4)
        self._grid.setColumnStretch(1, 1)
        self.note = QLabel(
            "Each cell is outlined in its class colour, its nucleus in a pale "
            "tint of it."
        )
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #5f6368;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(self._grid)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self._count_labels: dict[str, QLabel] = {}
        self._name_labels: dict[str, QLabel] = {}

    def set_palette(self, palette: ClassPalette) -> None:
        """Show the classes of `palette`'s scheme, in the scheme's order."""
        while self._grid.count():
            widget = self._grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self._count_labels.clear()
        self._name_labels.clear()
        for row, cell_class in enumerate(palette.scheme.classes):
            swatch = QLabel()
            swatch.setPixmap(
                swatch_icon(palette, cell_class.name, SWATCH_SIZE).pixmap(
                    SWATCH_SIZE, SWATCH_SIZE
                )
            )
            name = QLabel(cell_class.label)
            group = QLabel(cell_class.group)
            group.setStyleSheet("color: #5f6368;")
            count = QLabel("")
            count.setAlignment(
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            )
            for column, widget in enumerate((swatch, name, group, count)):
                self._grid.addWidget(widget, row, column)
            self._count_labels[cell_class.name] = count
            self._name_labels[cell_class.name] = name

    def show_counts(self, counts: dict[str, int]) -> None:
        """The number of cells of each class in the shown image."""
        for name, label in self._count_labels.items():
            label.setText(str(counts.get(name, 0)) if counts else "")
            label.setToolTip(f"{counts.get(name, 0)} cells of this class in this image")

    def class_names(self) -> list[str]:
        return list(self._name_labels)

    def label_text(self, class_name: str) -> str:
        return self._name_labels[class_name].text()
