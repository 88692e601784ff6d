"""The marks that a slide opened on its own was drawn by Cervix Studio, as a
synthetic dataset has them: a banner above the viewer, "(synthetic)" in the
status bar and in the window title."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QToolBar

from cervix_gui.dataset_browser import synthetic_label
from engine.annotations import ImageRecord

log = logging.getLogger(__name__)

SYNTHETIC_SLIDE_TEXT = (
    "Synthetic slide: drawn by Cervix Studio from random numbers. "
    "These are not cells of a patient; not for diagnosis."
)
TITLE_SUFFIX = " \u2014 synthetic slide"


class SyntheticSlideMark(QObject):
    """Shows or hides the marks each time the window opens something."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.banner = QToolBar("Synthetic slide", window)
        self.banner.setObjectName("syntheticSlideBanner")
        self.banner.setMovable(False)
        self.banner.toggleViewAction().setVisible(False)
        self.label = synthetic_label(SYNTHETIC_SLIDE_TEXT)
        self.label.show()
        self.banner.addWidget(self.label)
        window.addToolBarBreak()
        window.addToolBar(self.banner)
        self.banner.hide()
        # Queued: the window shows what was opened in its own slot first, and
        # sets the title and status bar that the marks are added to.
        window.opener.opened.connect(
            self.show_marks, Qt.ConnectionType.QueuedConnection
        )

    def shown(self) -> bool:
        return not self.banner.isHidden()

    def show_marks(self, path: Path, opened) -> None:
        """Mark `opened` when it is the synthetic slide the window now shows."""
        window = self.window
        synthetic = (
            isinstance(opened, ImageRecord)
            and window.single_image is opened
            and window.opener.synthetic_slide
        )
        self.banner.setVisible(synthetic)
        if not synthetic:
            return
        log.info("%s is a synthetic slide", path)
        window.status.show_dataset(opened.path.parent.name, True)
        if not window.windowTitle().endswith(TITLE_SUFFIX):
            window.setWindowTitle(window.windowTitle() + TITLE_SUFFIX)


def install_synthetic_slide_mark(window) -> SyntheticSlideMark:
    """Give `window` (a MainWindow) the marks of a synthetic slide."""
    window.synthetic_slide_mark = SyntheticSlideMark(window)
    return window.synthetic_slide_mark
