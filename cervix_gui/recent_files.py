"""Recently opened datasets, images and slides, kept in the application's settings
and offered in File > Open recent."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QMenu

SETTINGS_KEY = "recentFiles"
MAX_RECENT = 10


class RecentFiles(QObject):
    """The most recent paths first, at most MAX_RECENT, without duplicates."""

    changed = Signal()

    def __init__(self, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()

    def paths(self) -> list[Path]:
        stored = self.settings.value(SETTINGS_KEY, [])
        if isinstance(stored, str):  # one entry comes back as a plain string
            stored = [stored]
        return [Path(text) for text in stored or [] if text]

    def add(self, path: Path) -> None:
        """Put `path` first."""
        path = Path(path).resolve()
        paths = [path] + [known for known in self.paths() if known != path]
        self.settings.setValue(SETTINGS_KEY, [str(p) for p in paths[:MAX_RECENT]])
        self.settings.sync()
        self.changed.emit()

    def clear(self) -> None:
        self.settings.remove(SETTINGS_KEY)
        self.settings.sync()
        self.changed.emit()

    def fill_menu(self, menu: QMenu, open_path) -> None:
        """List the paths in `menu`; choosing one calls `open_path(path)`."""
        menu.clear()
        paths = self.paths()
        for number, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{number % 10} {path.name}")
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.setEnabled(path.exists())
            action.triggered.connect(lambda _checked=False, p=path: open_path(p))
        if not paths:
            menu.addAction("No recent files").setEnabled(False)
            return
        menu.addSeparator()
        menu.addAction("Clear the list", self.clear)
