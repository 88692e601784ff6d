"""Where the review docks find their cells: the window's open dataset or slide and
the model run it shows."""

from __future__ import annotations

from PySide6.QtCore import Qt

from engine.review import ReviewSource

# The keys 1 to 5 give a cell the class at that place in the scheme, in the
# gallery and in the viewer alike.
CLASS_KEYS = {
    Qt.Key.Key_1: 0,
    Qt.Key.Key_2: 1,
    Qt.Key.Key_3: 2,
    Qt.Key.Key_4: 3,
    Qt.Key.Key_5: 4,
}


def current_run(window) -> str | None:
    """The run the window shows, else the newest stored run, else None."""
    stored = getattr(window.predictions, "stored", None)
    if stored is not None and getattr(stored, "run", None):
        return stored.run
    store = window.prediction_store()
    runs = store.runs() if store is not None else []
    return runs[0] if runs else None


def review_source(window) -> ReviewSource | None:
    """The window's dataset (with its run's predictions) or its slide's run; None
    when nothing reviewable is open."""
    run = current_run(window)
    if window.dataset is not None:
        return ReviewSource.for_dataset(window.dataset, run)
    if window.single_image is not None and run is not None:
        return ReviewSource.for_slide(window.single_image.path, run)
    return None


def scope_keys(window, source: ReviewSource, scope: str) -> list[str] | None:
    """The image keys of a scope: "image" the shown image, "selected" the images
    selected in the dataset browser (the shown one when no other is), else every
    image (None)."""
    if scope == "image" or (scope == "selected" and window.dataset is None):
        record = window.current_record()
        return [] if record is None else [record.key]
    if scope == "selected":
        return window.browser.selected_keys()
    return None
