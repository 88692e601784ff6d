"""The window survives long sessions: PySide6 6.12 drops a reference to None,
True or False on every void or bool call, which aborts Python 3.11 after a few
thousand calls unless cervix_gui makes those singletons immortal."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QRectF

import cervix_gui  # noqa: F401  (the work-around is made on import)


def test_a_hundred_thousand_qt_calls_keep_none_true_and_false_alive():
    widget_like = QObject()
    rect = QRectF(0, 0, 1, 1)
    before = {name: sys.getrefcount(value) for name, value in _singletons()}

    for _ in range(100_000):
        widget_like.setObjectName("cell")  # returns None
        rect.isEmpty()  # returns False
        rect.isValid()  # returns True

    for name, value in _singletons():
        assert sys.getrefcount(value) > 0, name
        assert sys.getrefcount(value) > before[name] - 200_000 > 0, name


def _singletons():
    return [("None", None), ("True", True), ("False", False)]
