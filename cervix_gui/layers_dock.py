"""The layers dock: each layer of the viewer with its visibility, its opacity and its
shortcut; a layer with nothing to show is greyed out and says why. Above them,
the stored prediction run the model layers show."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.viewer.layer import Layer

OPACITY_STEPS = 100


class LayerRow:
    """The controls of one layer: a check box, an opacity slider, a shortcut."""

    def __init__(self, layer: Layer, shortcut: str, parent: QWidget):
        self.layer = layer
        self.check = QCheckBox(layer.title, parent)
        self.check.setChecked(layer.isVisible())
        self.slider = QSlider(Qt.Orientation.Horizontal, parent)
        self.slider.setRange(0, OPACITY_STEPS)
        self.slider.setValue(round(layer.opacity() * OPACITY_STEPS))
        self.slider.setMaximumWidth(110)
        self.key_label = QLabel(QKeySequence(shortcut).toString(), parent)
        self.key_label.setStyleSheet("color: #80868b;")
        self.action = QAction(f"Show {layer.title.lower()}", parent)
        self.action.setCheckable(True)
        self.action.setChecked(layer.isVisible())
        self.action.setShortcut(QKeySequence(shortcut))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

        self.check.toggled.connect(self.set_visible)
        self.action.toggled.connect(self.set_visible)
        self.slider.valueChanged.connect(self._on_opacity)
        # The layer's opacity may also be set elsewhere (the preferences).
        layer.opacityChanged.connect(self._show_opacity)
        layer.availability_changed.connect(self.refresh)
        self.refresh()

    def set_visible(self, visible: bool) -> None:
        self.layer.setVisible(visible)
        for control in (self.check, self.action):
            if control.isChecked() != visible:
                control.blockSignals(True)
                control.setChecked(visible)
                control.blockSignals(False)

    def _on_opacity(self, value: int) -> None:
        self.layer.setOpacity(value / OPACITY_STEPS)

    def _show_opacity(self) -> None:
        value = round(self.layer.opacity() * OPACITY_STEPS)
        if self.slider.value() != value:
            self.slider.blockSignals(True)
            self.slider.setValue(value)
            self.slider.blockSignals(False)

    def refresh(self) -> None:
        """Grey out a layer with nothing to show, and say why in its tooltip."""
        available = self.layer.available
        reason = self.layer.unavailable_reason
        for widget in (self.check, self.slider, self.key_label):
            widget.setEnabled(available)
            widget.setToolTip(
                reason
                if not available
                else f"{self.layer.title}: show or hide ({self.key_label.text()}); "
                "the slider sets its opacity"
            )
        self.action.setEnabled(available)


class LayersDock(QWidget):
    """One row per layer, top layer first."""

    run_chosen = Signal(str)

    def __init__(self, layers: list[Layer], shortcuts: dict[str, str], parent=None):
        super().__init__(parent)
        self.runs = QComboBox()
        self.runs.setToolTip("The stored model run whose predictions are shown")
        self.runs.currentTextChanged.connect(self._on_run)
        self.runs_label = QLabel("Predictions:")
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setColumnStretch(0, 1)
        self.rows: dict[str, LayerRow] = {}
        for position, layer in enumerate(layers):
            row = LayerRow(layer, shortcuts[layer.name], self)
            layer.availability_changed.connect(self._show_hint)
            self.rows[layer.name] = row
            grid.addWidget(row.check, position, 0)
            grid.addWidget(row.slider, position, 1)
            grid.addWidget(row.key_label, position, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        runs_line = QGridLayout()
        runs_line.addWidget(self.runs_label, 0, 0)
        runs_line.addWidget(self.runs, 0, 1)
        runs_line.setColumnStretch(1, 1)
        # Why the greyed layers are empty, where a person sees it at once.
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #5f6368;")
        layout.addLayout(runs_line)
        layout.addLayout(grid)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self.set_runs([])
        self._show_hint()

    def _show_hint(self) -> None:
        reasons = dict.fromkeys(
            row.layer.unavailable_reason
            for row in self.rows.values()
            if not row.layer.available
        )
        self.hint.setText("\n".join(reasons))
        self.hint.setVisible(bool(reasons))

    def actions(self) -> list[QAction]:
        """The show/hide actions, with their shortcuts, for the window's menu."""
        return [row.action for row in self.rows.values()]

    def set_runs(self, runs: list[str]) -> None:
        """The stored prediction runs, newest first; the newest is chosen."""
        self.runs.blockSignals(True)
        self.runs.clear()
        self.runs.addItems(runs)
        self.runs.blockSignals(False)
        self.runs.setEnabled(bool(runs))
        if not runs:
            self.runs.addItem("none stored")
            self.runs.setEnabled(False)

    def current_run(self) -> str | None:
        return self.runs.currentText() if self.runs.isEnabled() else None

    def _on_run(self, run: str) -> None:
        if self.runs.isEnabled() and run:
            self.run_chosen.emit(run)
