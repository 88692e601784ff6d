"""The review docks and the assisted-outline tool put into a main window, with a
Review menu; one call from the window (`install_review(window)`) does it all."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget

from cervix_gui.review.assist_tool import AssistTool
from cervix_gui.review.gallery_dock import ReviewGallery
from cervix_gui.review.summary_dock import ReviewSummaryDock
from cervix_gui.review.viewer_triage import ViewerTriage

log = logging.getLogger(__name__)

ASSIST_KEY = "O"  # free: the editing tools use E, B, D and N


class WindowReview(QObject):
    """The gallery and summary docks and the assist tool of one window."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.gallery = ReviewGallery(window)
        self.summary = ReviewSummaryDock(window)
        self.assist = AssistTool(window)
        self.gallery_dock = self._dock("Review", "reviewDock", self.gallery)
        self.summary_dock = self._dock(
            "Review summary", "reviewSummaryDock", self.summary
        )
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        window.addDockWidget(bottom, self.gallery_dock)
        window.addDockWidget(bottom, self.summary_dock)
        measurements = getattr(window, "measurements_dock", None)
        if measurements is not None:
            window.tabifyDockWidget(measurements, self.gallery_dock)
            window.tabifyDockWidget(self.gallery_dock, self.summary_dock)
            measurements.raise_()
        # Hidden until there is a model run to review: three tabbed docks would
        # make the window taller than a small screen for nothing.
        self.gallery_dock.hide()
        self.summary_dock.hide()
        self._offered = False

        menu = window.menuBar().addMenu("&Review")
        self.assist_action = QAction("&Assisted outline tool", window)
        self.assist_action.setShortcut(QKeySequence(ASSIST_KEY))
        self.assist_action.setToolTip(
            "Click inside an unoutlined cell for the model's outline; Enter adds "
            "it, Esc drops it"
        )
        self.assist_action.triggered.connect(self.use_assist)
        window.addAction(self.assist_action)
        menu.addAction(self.assist_action)
        self.viewer_triage = ViewerTriage(window, self.gallery)
        menu.addAction(self.viewer_triage.next_action)
        menu.addAction(self.viewer_triage.previous_action)
        menu.addSeparator()
        menu.addAction(self.gallery_dock.toggleViewAction())
        menu.addAction(self.summary_dock.toggleViewAction())

        # After the window has shown what it opened: the queue needs its dataset.
        window.opener.opened.connect(lambda *_: QTimer.singleShot(0, self.refresh))
        window.browser.image_selected.connect(self._on_image_shown)
        window.browser.selection_changed.connect(self._on_images_selected)
        self.gallery.slide_decisions.changed.connect(self._on_slide_decided)

    def _dock(self, title: str, name: str, widget) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        return dock

    def refresh(self) -> None:
        """Collect the review queue and the summary again; the first time a model
        run is there to review, show the gallery."""
        window = self.window
        slide = window.single_image if window.dataset is None else None
        self.gallery.slide_decisions.show_slide(None if slide is None else slide.path)
        self.gallery.refresh()
        self.summary.refresh()
        source = self.gallery.source
        if not self._offered and source is not None and source.run is not None:
            self._offered = True
            self.gallery_dock.show()
            self.summary_dock.show()
            self.gallery_dock.raise_()

    def _on_image_shown(self, _key: str) -> None:
        # Only the shown-image scopes change with the image; the dataset's queue
        # stays as it is while the gallery walks through its images.
        if self.gallery.scope.currentData() == "image":
            QTimer.singleShot(0, self.gallery.refresh)
        if self.summary.scope.currentData() == "image":
            QTimer.singleShot(0, self.summary.refresh)

    def _on_slide_decided(self, _key: str) -> None:
        self.summary.refresh_soon()
        # The instances layer leaves out the cells rejected on the slide.
        self.window.editing.proposals.refresh()

    def _on_images_selected(self) -> None:
        for dock in (self.gallery, self.summary):
            if dock.scope.currentData() == "selected":
                dock.refresh_soon()

    def use_assist(self) -> None:
        """Make the assisted-outline tool the viewer's."""
        if self.window.viewer.view.tool is not self.assist:
            self.window.viewer.set_tool(self.assist)
        self.window.status.showMessage(
            "Assisted outlines: click inside a cell nobody outlined.", 8000
        )


def install_review(window) -> WindowReview:
    """Add the review docks, the Review menu and the assist tool to `window`."""
    return WindowReview(window)
