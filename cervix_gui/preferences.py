"""The user's preferences, kept in Qt's settings store: the tile cache size, each
layer's opacity and colours, the SIPaKMeD class colours, and the device the models
run on; read back with a fallback to the default (and a warning) when a stored
value makes no sense.

`install_preferences(window)` applies the stored preferences to a main window and
adds Edit > Preferences… to it.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QColor, QKeySequence

from cervix_gui.palette import FIXED_COLOURS, choose_class_colours
from cervix_gui.viewer.image_viewer import TILE_CACHE_BYTES
from cervix_gui.viewer.layer_stack import LAYER_COLOURS, LAYER_SPECS

log = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024

# Every preference's key and default, in one place.
CACHE_KEY = "viewer/tileCacheMB"
CACHE_DEFAULT_MB = TILE_CACHE_BYTES // MEGABYTE
CACHE_MIN_MB = 32  # below this a slide's visible tiles no longer fit
CACHE_MAX_MB = 16384
DEVICE_KEY = "models/device"
DEVICE_DEFAULT = "auto"
DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")
OPACITY_KEY = "layerOpacity/{name}"
OPACITY_DEFAULT = 1.0
COLOUR_KEY = "layerColours/{role}"
LAYER_NAMES = [spec[0] for spec in LAYER_SPECS]
COLOUR_DEFAULTS = {role: spec[2].name() for role, spec in LAYER_COLOURS.items()}
CLASS_COLOUR_KEY = "classColours/{name}"
CLASS_COLOUR_DEFAULTS = dict(FIXED_COLOURS)  # SIPaKMeD's five classes


class Preferences:
    """Typed access to the preferences in one QSettings store."""

    def __init__(self, settings: QSettings):
        self.settings = settings
        self._warned: set[str] = set()

    def _stored(self, key: str):
        return self.settings.value(key)

    def _fall_back(self, key: str, stored, why: str, default):
        # One warning per key and store, however often the value is read.
        if key not in self._warned:
            self._warned.add(key)
            log.warning(
                "Ignoring the stored preference %s=%r (%s); using %r instead",
                key,
                stored,
                why,
                default,
            )
        return default

    # -- the viewer --------------------------------------------------------------

    def cache_megabytes(self) -> int:
        """The tile cache's budget in megabytes."""
        stored = self._stored(CACHE_KEY)
        if stored is None:
            return CACHE_DEFAULT_MB
        try:
            value = int(str(stored).strip())
        except ValueError:
            return self._fall_back(
                CACHE_KEY, stored, "not a whole number of megabytes", CACHE_DEFAULT_MB
            )
        if not CACHE_MIN_MB <= value <= CACHE_MAX_MB:
            return self._fall_back(
                CACHE_KEY,
                stored,
                f"outside {CACHE_MIN_MB} to {CACHE_MAX_MB} MB",
                min(max(value, CACHE_MIN_MB), CACHE_MAX_MB),
            )
        return value

    def set_cache_megabytes(self, megabytes: int) -> None:
        if not CACHE_MIN_MB <= megabytes <= CACHE_MAX_MB:
            raise ValueError(
                f"a tile cache of {megabytes} MB is outside "
                f"{CACHE_MIN_MB} to {CACHE_MAX_MB} MB"
            )
        self.settings.setValue(CACHE_KEY, int(megabytes))

    # -- the layers --------------------------------------------------------------

    def layer_opacity(self, name: str) -> float:
        """How opaque layer `name` starts, 0 (clear) to 1."""
        key = OPACITY_KEY.format(name=name)
        stored = self._stored(key)
        if stored is None:
            return OPACITY_DEFAULT
        try:
            value = float(str(stored).strip())
        except ValueError:
            return self._fall_back(key, stored, "not a number", OPACITY_DEFAULT)
        if not 0.0 <= value <= 1.0:
            return self._fall_back(key, stored, "outside 0 to 1", OPACITY_DEFAULT)
        return value

    def set_layer_opacity(self, name: str, opacity: float) -> None:
        if not 0.0 <= opacity <= 1.0:
            raise ValueError(f"an opacity of {opacity} is outside 0 to 1")
        self.settings.setValue(OPACITY_KEY.format(name=name), round(opacity, 3))

    def layer_colour(self, role: str) -> QColor:
        """The colour of one part of a layer (a role of LAYER_COLOURS)."""
        return self._colour(COLOUR_KEY.format(role=role), COLOUR_DEFAULTS[role])

    def set_layer_colour(self, role: str, colour: QColor) -> None:
        self.settings.setValue(COLOUR_KEY.format(role=role), QColor(colour).name())

    def class_colour(self, class_name: str) -> QColor:
        """The colour cells of a SIPaKMeD class are drawn in."""
        key = CLASS_COLOUR_KEY.format(name=class_name)
        return self._colour(key, CLASS_COLOUR_DEFAULTS[class_name])

    def set_class_colour(self, class_name: str, colour: QColor) -> None:
        key = CLASS_COLOUR_KEY.format(name=class_name)
        self.settings.setValue(key, QColor(colour).name())

    def _colour(self, key: str, default_name: str) -> QColor:
        default = QColor(default_name)
        stored = self._stored(key)
        if stored is None:
            return default
        colour = QColor(str(stored).strip())
        if not colour.isValid():
            return self._fall_back(key, stored, "not a colour", default)
        return colour

    # -- the models --------------------------------------------------------------

    def device(self) -> str:
        """Where models run: "auto", "cpu" or "cuda:N"."""
        stored = self._stored(DEVICE_KEY)
        if stored is None:
            return DEVICE_DEFAULT
        text = str(stored).strip().lower()
        if not DEVICE_PATTERN.fullmatch(text):
            return self._fall_back(
                DEVICE_KEY, stored, 'not "auto", "cpu" or "cuda:N"', DEVICE_DEFAULT
            )
        return "cuda:0" if text == "cuda" else text

    def set_device(self, device: str) -> None:
        if not DEVICE_PATTERN.fullmatch(device):
            raise ValueError(f'{device!r} is not "auto", "cpu" or "cuda:N"')
        self.settings.setValue(DEVICE_KEY, "cuda:0" if device == "cuda" else device)

    # -- all of them -------------------------------------------------------------

    def keys(self) -> list[str]:
        """Every preference's key (the recent files are not a preference)."""
        return (
            [CACHE_KEY, DEVICE_KEY]
            + [OPACITY_KEY.format(name=name) for name in LAYER_NAMES]
            + [COLOUR_KEY.format(role=role) for role in LAYER_COLOURS]
            + [CLASS_COLOUR_KEY.format(name=name) for name in CLASS_COLOUR_DEFAULTS]
        )

    def reset(self) -> None:
        """Forget every stored preference, so each reads as its default."""
        for key in self.keys():
            self.settings.remove(key)
        self._warned.clear()
        self.sync()

    def sync(self) -> None:
        self.settings.sync()
        if self.settings.status() != QSettings.Status.NoError:
            log.warning(
                "The preferences could not be written to %s (%s)",
                self.settings.fileName(),
                self.settings.status().name,
            )


def default_device(settings: QSettings | None = None) -> str:
    """The device the models should run on: "auto", "cpu" or "cuda:N"."""
    return Preferences(settings if settings is not None else QSettings()).device()


def window_settings(window) -> QSettings:
    """The settings store of a main window: its own, that of its recent files
    list, or else the application's."""
    settings = getattr(window, "settings", None)
    if settings is None:
        recent = getattr(window, "recent", None)
        settings = getattr(recent, "settings", None)
    return settings if settings is not None else QSettings()


def apply_preferences(window, preferences: Preferences) -> None:
    """Make `window`'s viewer (and so its layers dock) follow `preferences`."""
    viewer = window.viewer
    viewer.set_cache_budget(preferences.cache_megabytes() * MEGABYTE)
    for name in LAYER_NAMES:
        # The layers dock follows the layer's opacity by itself.
        viewer.layers[name].setOpacity(preferences.layer_opacity(name))
    for role in LAYER_COLOURS:
        viewer.layers.set_colour(role, preferences.layer_colour(role))
    choose_class_colours(
        {name: preferences.class_colour(name) for name in CLASS_COLOUR_DEFAULTS}
    )
    palette = getattr(window, "class_palette", None)
    if palette is not None and palette.recolour():
        # Redrawn now: the viewer and the legend. The dataset list and the edit
        # menu's class icons take the colours up when a dataset is next opened.
        viewer.layers.recolour_classes(palette)
        legend = getattr(window, "legend", None)
        if legend is not None:
            legend.set_palette(palette)
            record = viewer.record
            if record is not None:
                legend.show_counts(Counter(cell.class_name for cell in record.cells))


class PreferencesHandle:
    """A window's Preferences… action and the dialog it opens."""

    def __init__(self, window, preferences: Preferences):
        self.window = window
        self.preferences = preferences
        self.dialog = None
        self.action = QAction("&Preferences\u2026", window)
        keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
        comma = QKeySequence("Ctrl+,")
        self.action.setShortcuts(keys + ([comma] if comma not in keys else []))
        self.action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.action.setStatusTip(
            "Tile cache size, layer colours and opacities, the models' device, "
            "recent files"
        )
        self.action.triggered.connect(self.open)
        window.addAction(self.action)

    def open(self):
        """Show the preferences dialog, filled from the stored preferences."""
        from cervix_gui.preferences_dialog import PreferencesDialog

        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        self.dialog = PreferencesDialog(
            self.preferences, self.window, getattr(self.window, "recent", None)
        )
        self.dialog.show()
        return self.dialog


def _menu_titled(window, title: str):
    for action in window.menuBar().actions():
        menu = action.menu()
        if menu is not None and menu.title().replace("&", "") == title:
            return menu
    return None


def install_preferences(window) -> PreferencesHandle:
    """Apply the stored preferences to `window` and add Preferences… to its Edit
    menu (or a Settings menu when it has none)."""
    preferences = Preferences(window_settings(window))
    apply_preferences(window, preferences)
    handle = PreferencesHandle(window, preferences)
    menu = _menu_titled(window, "Edit")
    if menu is None:
        menu = _menu_titled(window, "Settings") or window.menuBar().addMenu("&Settings")
    else:
        menu.addSeparator()
    menu.addAction(handle.action)
    window.preferences = handle
    return handle
