"""The preferences dialog: the viewer's tile cache, each layer's opacity and
colours, the class colours, the device the models run on, and the list of recent
files; OK, Apply, Cancel, and Restore defaults."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.preferences import (
    CACHE_MAX_MB,
    CACHE_MIN_MB,
    CLASS_COLOUR_DEFAULTS,
    LAYER_NAMES,
    MEGABYTE,
    Preferences,
    apply_preferences,
)
from cervix_gui.preferences_widgets import (
    ColourButton,
    OpacityControl,
    find_gpus,
    hint,
    page,
)
from cervix_gui.viewer.layer_stack import LAYER_COLOURS, LAYER_SPECS
from engine.annotations import ClassScheme

log = logging.getLogger(__name__)

LAYER_TITLES = {spec[0]: spec[1] for spec in LAYER_SPECS}
# What colours the layers without a colour of their own.
OWN_COLOURING = {
    "image": "its own pixels",
    "annotations": "by class (see Classes)",
    "classification": "by class (see Classes)",
    "heatmap": "blue-to-red scale",
}


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
        self.tabs.addTab(self._classes_tab(), "Classes")
        self.tabs.addTab(self._models_tab(), "Models")
        self.tabs.addTab(self._recent_tab(), "Recent files")
        store = hint(f"Stored in {preferences.settings.fileName()}")
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
        self.cache_use = hint("")
        return page(
            [("Tile cache:", self.cache_mb)],
            hint(
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
                colouring = hint(OWN_COLOURING[name])
                colouring.setWordWrap(False)
                colours.addWidget(colouring)
            colours.addStretch(1)
            grid.addLayout(colours, row, 2)
        layout = QVBoxLayout(tab)
        layout.addLayout(grid)
        layout.addWidget(
            hint(
                "The opacity each layer starts with. The Layers panel changes it "
                "for the current session only."
            )
        )
        layout.addStretch(1)
        return tab

    def _classes_tab(self) -> QWidget:
        self.class_buttons: dict[str, ColourButton] = {}
        scheme = ClassScheme()
        rows = []
        for name in CLASS_COLOUR_DEFAULTS:
            cell_class = scheme.by_name(name)
            button = ColourButton(QColor(), f"{cell_class.label} cells")
            self.class_buttons[name] = button
            rows.append((f"{cell_class.label} ({cell_class.group}):", button))
        return page(
            rows,
            hint(
                "The colour of each SIPaKMeD class in the annotations, the "
                "classification and the legend. By default normal cells are cool, "
                "abnormal ones warm; pick colours you tell apart easily."
            ),
        )

    def _models_tab(self) -> QWidget:
        self.device = QComboBox()
        self.device.addItem("Automatic: the first GPU, else the CPU", "auto")
        self.device.addItem("CPU", "cpu")
        for device, description in find_gpus():
            self.device.addItem(f"{device} \u2014 {description}", device)
        return page(
            [("Run models on:", self.device)],
            hint(
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
        self.recent_note = hint("")
        return page(
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
        for name, button in self.class_buttons.items():
            button.set_colour(preferences.class_colour(name))
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

    def set_class_colour(self, class_name: str, colour: QColor) -> None:
        """Show `colour` for a class, as if the user had picked it."""
        self.class_buttons[class_name].set_colour(colour)

    def apply(self) -> None:
        """Store what the controls show and make the window follow it."""
        preferences = self.preferences
        preferences.set_cache_megabytes(self.cache_mb.value())
        for name, control in self.opacities.items():
            preferences.set_layer_opacity(name, control.opacity())
        for role, button in self.colour_buttons.items():
            preferences.set_layer_colour(role, button.colour)
        for name, button in self.class_buttons.items():
            preferences.set_class_colour(name, button.colour)
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
            "Set the tile cache, every layer's opacity and colours, the class "
            "colours and the models' device back to their defaults now? The list "
            "of recent files is kept.",
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
