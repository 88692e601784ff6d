"""The preferences dialog: the viewer's tile cache, each layer's opacity and
colours, the device the models run on, and the list of recent files; OK, Apply,
Cancel, and Restore defaults."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.preferences import (
    CACHE_MAX_MB,
    CACHE_MIN_MB,
    LAYER_NAMES,
    MEGABYTE,
    Preferences,
    apply_preferences,
)
from cervix_gui.viewer.layer_stack import LAYER_COLOURS, LAYER_SPECS

log = logging.getLogger(__name__)

HINT_STYLE = "color: #5f6368;"
LAYER_TITLES = {spec[0]: spec[1] for spec in LAYER_SPECS}
# What colours the layers without a colour of their own.
OWN_COLOURING = {
    "image": "its own pixels",
    "annotations": "class colours",
    "classification": "class colours",
    "heatmap": "blue-to-red scale",
}


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


def _page(rows: list[tuple[str, QWidget]], *below: QWidget) -> QWidget:
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


def _hint(text: str) -> QLabel:
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


class PreferencesDialog(QDialog):
    """Shows the stored preferences; OK and Apply store them and apply them to
    the window, Cancel forgets what was changed since the last Apply."""

    def __init__(self, preferences: Preferences, window=None, recent=None):
        super().__init__(window)
        self.preferences = preferences
        self.main_window = window
        self.recent = recent
        self.clear_recent_pending = False
        self.setWindowTitle("Preferences")

        self.tabs = QTabWidget()
        self.tabs.addTab(self._viewer_tab(), "Viewer")
        self.tabs.addTab(self._layers_tab(), "Layers")
        self.tabs.addTab(self._models_tab(), "Models")
        self.tabs.addTab(self._recent_tab(), "Recent files")
        store = _hint(f"Stored in {preferences.settings.fileName()}")
        store.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox.StandardButton
        self.buttons = QDialogButtonBox(
            buttons.Ok | buttons.Cancel | buttons.Apply | buttons.RestoreDefaults
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(buttons.Apply).clicked.connect(self.apply)
        self.buttons.button(buttons.RestoreDefaults).clicked.connect(
            self.restore_defaults
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(store)
        layout.addWidget(self.buttons)
        self.load()

    # -- the tabs ----------------------------------------------------------------

    def _viewer_tab(self) -> QWidget:
        self.cache_mb = QSpinBox()
        self.cache_mb.setRange(CACHE_MIN_MB, CACHE_MAX_MB)
        self.cache_mb.setSingleStep(32)
        self.cache_mb.setSuffix(" MB")
        self.cache_mb.setAccelerated(True)
        self.cache_mb.setMinimumWidth(120)
        self.cache_use = _hint("")
        return _page(
            [("Tile cache:", self.cache_mb)],
            _hint(
                "Decoded image tiles kept in memory. More makes moving back over a "
                "large slide quicker; less leaves memory to other programs. "
                f"From {CACHE_MIN_MB} MB to {CACHE_MAX_MB // 1024} GB."
            ),
            self.cache_use,
        )

    def _layers_tab(self) -> QWidget:
        self.opacities: dict[str, OpacityControl] = {}
        self.colour_buttons: dict[str, ColourButton] = {}
        tab = QWidget()
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        for column, heading in enumerate(("Layer", "Opacity", "Colours")):
            label = QLabel(f"<b>{heading}</b>")
            grid.addWidget(label, 0, column)
        for row, name in enumerate(LAYER_NAMES, start=1):
            grid.addWidget(QLabel(LAYER_TITLES[name]), row, 0)
            self.opacities[name] = OpacityControl()
            grid.addWidget(self.opacities[name], row, 1)
            colours = QHBoxLayout()
            for role, (layer, part, _default) in LAYER_COLOURS.items():
                if layer != name:
                    continue
                button = ColourButton(QColor(), f"{LAYER_TITLES[name]}: {part}")
                self.colour_buttons[role] = button
                colours.addWidget(QLabel(f"{part}:"))
                colours.addWidget(button)
                colours.addSpacing(8)
            if name in OWN_COLOURING:
                colours.addWidget(_hint(OWN_COLOURING[name]))
            colours.addStretch(1)
            grid.addLayout(colours, row, 2)
        layout = QVBoxLayout(tab)
        layout.addLayout(grid)
        layout.addWidget(
            _hint(
                "The opacity each layer starts with. The Layers panel changes it "
                "for the current session only."
            )
        )
        layout.addStretch(1)
        return tab

    def _models_tab(self) -> QWidget:
        self.device = QComboBox()
        self.device.addItem("Automatic: the first GPU, else the CPU", "auto")
        self.device.addItem("CPU", "cpu")
        for device, description in find_gpus():
            self.device.addItem(f"{device} \u2014 {description}", device)
        return _page(
            [("Run models on:", self.device)],
            _hint(
                "Where fine-tuning and inference run unless a job says otherwise. "
                "Only the GPUs this computer has are listed."
            ),
        )

    def _recent_tab(self) -> QWidget:
        self.recent_count = QLabel()
        self.clear_recent = QPushButton("Clear recent files")
        self.clear_recent.clicked.connect(self._clear_recent_later)
        self.recent_list = QListWidget()
        self.recent_list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.recent_list.setMaximumHeight(140)
        self.recent_note = _hint("")
        return _page(
            [("In File \u25b8 Open recent:", self.recent_count)],
            self.recent_list,
            self.clear_recent,
            self.recent_note,
        )

    # -- showing and storing ------------------------------------------------------

    def load(self) -> None:
        """Fill the controls from the stored preferences."""
        preferences = self.preferences
        self.cache_mb.setValue(preferences.cache_megabytes())
        for name, control in self.opacities.items():
            control.set_opacity(preferences.layer_opacity(name))
        for role, button in self.colour_buttons.items():
            button.set_colour(preferences.layer_colour(role))
        self._select_device(preferences.device())
        self.clear_recent_pending = False
        self._show_recent()
        self._show_cache_use()

    def _select_device(self, device: str) -> None:
        index = self.device.findData(device)
        if index < 0:
            # Stored but not found here (a GPU removed): keep it on offer.
            self.device.addItem(f"{device} \u2014 not found on this computer", device)
            index = self.device.count() - 1
        self.device.setCurrentIndex(index)

    def _show_recent(self) -> None:
        paths = [] if self.recent is None else self.recent.paths()
        count = len(paths)
        self.recent_list.clear()
        self.recent_list.addItems([str(path) for path in paths])
        self.recent_list.setEnabled(not self.clear_recent_pending)
        if self.clear_recent_pending:
            self.recent_count.setText(f"{count} files, to be cleared")
            self.recent_note.setText("The list is cleared when you press OK or Apply.")
        else:
            noun = "file" if count == 1 else "files"
            self.recent_count.setText(f"{count} {noun}")
            self.recent_note.setText("")
        self.clear_recent.setEnabled(count > 0 and not self.clear_recent_pending)

    def _show_cache_use(self) -> None:
        viewer = getattr(self.main_window, "viewer", None)
        if viewer is None:
            self.cache_use.setText("")
            return
        stats = viewer.cache.stats()
        self.cache_use.setText(
            f"In use now: {stats.bytes / MEGABYTE:.0f} MB of "
            f"{stats.max_bytes / MEGABYTE:.0f} MB, {stats.items} tiles."
        )

    def _clear_recent_later(self) -> None:
        self.clear_recent_pending = True
        self._show_recent()

    def set_layer_colour(self, role: str, colour: QColor) -> None:
        """Show `colour` for a layer's part, as if the user had picked it."""
        self.colour_buttons[role].set_colour(colour)

    def apply(self) -> None:
        """Store what the controls show and make the window follow it."""
        preferences = self.preferences
        preferences.set_cache_megabytes(self.cache_mb.value())
        for name, control in self.opacities.items():
            preferences.set_layer_opacity(name, control.opacity())
        for role, button in self.colour_buttons.items():
            preferences.set_layer_colour(role, button.colour)
        preferences.set_device(self.device.currentData())
        preferences.sync()
        if self.clear_recent_pending and self.recent is not None:
            self.recent.clear()
        self.clear_recent_pending = False
        if self.main_window is not None:
            apply_preferences(self.main_window, preferences)
        log.info("Preferences stored in %s", preferences.settings.fileName())
        self._show_recent()
        self._show_cache_use()

    def accept(self) -> None:
        self.apply()
        super().accept()

    def confirm_restore(self) -> bool:
        """Ask before every preference goes back to its default."""
        answer = QMessageBox.question(
            self,
            "Restore the defaults",
            "Set the tile cache, every layer's opacity and colours and the models' "
            "device back to their defaults now? The list of recent files is kept.",
            QMessageBox.StandardButton.RestoreDefaults
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.RestoreDefaults

    def restore_defaults(self) -> bool:
        """Reset every preference, once the user agrees; True when done."""
        if not self.confirm_restore():
            return False
        self.preferences.reset()
        if self.main_window is not None:
            apply_preferences(self.main_window, self.preferences)
        self.load()
        log.info("Preferences restored to their defaults")
        return True
