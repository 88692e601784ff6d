"""The main window's menus and toolbar: opening, recent files, exporting, zoom
and layers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

from cervix_gui.export_menu import install_export_menu
from cervix_gui.synthetic_slide_mark import install_synthetic_slide_mark


def make_action(window, text: str, keys, slot, tip: str) -> QAction:
    """An action of the window with its shortcuts and a tooltip that names them."""
    action = QAction(text, window)
    action.setShortcuts([QKeySequence(key) for key in keys])
    action.setToolTip(f"{tip} ({QKeySequence(keys[0]).toString()})" if keys else tip)
    action.setStatusTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)
    return action


def build_menus(window) -> None:
    """Give `window` (a MainWindow) its actions, menus and toolbar."""
    view = window.viewer.view
    window.open_action = make_action(
        window,
        "&Open dataset\u2026",
        [QKeySequence.StandardKey.Open],
        window.choose_dataset,
        "Open a SIPaKMeD dataset folder",
    )
    window.open_image_action = make_action(
        window,
        "Open &image or slide\u2026",
        ["Ctrl+Shift+O"],
        window.choose_image,
        "Open one image or a whole-slide image (TIFF, OME-TIFF, SVS, ...)",
    )
    window.open_sample_action = make_action(
        window,
        "Open the &synthetic sample",
        [],
        window.open_sample,
        "Open the built-in synthetic sample (drawn on first use)",
    )
    window.quit_action = make_action(
        window,
        "&Quit",
        [QKeySequence.StandardKey.Quit],
        window.close,
        "Close the window",
    )
    window.fit_action = make_action(
        window, "&Fit to window", ["F", "Ctrl+0"], view.fit, "Show the whole image"
    )
    window.actual_size_action = make_action(
        window,
        "&Actual pixels (1:1)",
        ["1", "Ctrl+1"],
        view.actual_size,
        "One screen pixel per image pixel",
    )
    window.zoom_in_action = make_action(
        window,
        "Zoom &in",
        [QKeySequence.StandardKey.ZoomIn, "+", "="],
        view.zoom_in,
        "Zoom in",
    )
    window.zoom_out_action = make_action(
        window,
        "Zoom &out",
        [QKeySequence.StandardKey.ZoomOut, "-"],
        view.zoom_out,
        "Zoom out",
    )
    zoom_actions = (
        window.fit_action,
        window.actual_size_action,
        window.zoom_in_action,
        window.zoom_out_action,
    )
    for action, text in zip(
        zoom_actions, ("Fit", "1:1", "Zoom in", "Zoom out"), strict=True
    ):
        action.setIconText(text)
    window.open_action.setIconText("Open\u2026")

    file_menu = window.menuBar().addMenu("&File")
    file_menu.addAction(window.open_action)
    file_menu.addAction(window.open_image_action)
    window.recent_menu = file_menu.addMenu("Open &recent")
    window.recent_menu.aboutToShow.connect(
        lambda: window.recent.fill_menu(window.recent_menu, window.open_path)
    )
    file_menu.addAction(window.open_sample_action)
    file_menu.addSeparator()
    window.file_menu = file_menu
    install_export_menu(window)
    file_menu.addSeparator()
    file_menu.addAction(window.quit_action)

    view_menu = window.menuBar().addMenu("&View")
    for action in zoom_actions:
        view_menu.addAction(action)
    view_menu.addSeparator()
    layers_menu = view_menu.addMenu("&Layers")
    for action in window.layers_dock.actions():
        layers_menu.addAction(action)
        window.addAction(action)
    view_menu.addSeparator()
    for dock in window.docks:
        view_menu.addAction(dock.toggleViewAction())

    toolbar = QToolBar("View", window)
    toolbar.setObjectName("viewToolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    toolbar.addAction(window.open_action)
    toolbar.addSeparator()
    for action in zoom_actions:
        toolbar.addAction(action)
    window.addToolBar(toolbar)
    install_synthetic_slide_mark(window)
