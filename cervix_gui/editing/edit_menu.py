"""The Edit menu, the editing toolbar and the undo history dock: Undo and Redo
that name what they will undo, Save, the tools, Delete, a class per number key,
and accepting or rejecting a model's proposal."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QToolBar, QUndoView

from cervix_gui.palette import ClassPalette, swatch_icon
from cervix_gui.window_actions import make_action

MAX_CLASS_KEYS = 9
# name, menu text, key, what it does
TOOLS = [
    (
        "edit",
        "&Select and edit outlines",
        "E",
        "Select cells, drag vertices, move cells",
    ),
    ("box", "&Box select", "B", "Drag a box to select the cells inside it"),
    ("draw", "&Draw a cell", "D", "Click around a new cell, then around its nucleus"),
    ("nucleus", "Redraw the &nucleus", "N", "Click around the selected cell's nucleus"),
]


class EditMenu:
    """The editing actions of a window, wired to its WindowEditing."""

    def __init__(self, window, editing):
        self.window = window
        self.editing = editing
        group = editing.session.group
        self.undo = group.createUndoAction(window, "&Undo")
        self.undo.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo = group.createRedoAction(window, "&Redo")
        self.redo.setShortcuts(QKeySequence.StandardKey.Redo)
        for action in (self.undo, self.redo):
            window.addAction(action)
        self.save = make_action(
            window,
            "&Save",
            [QKeySequence.StandardKey.Save],
            editing.save,
            "Save every image's edits as SIPaKMeD files (old files kept in backups)",
        )
        self.tools = QActionGroup(window)
        self.tool_actions: dict[str, QAction] = {}
        for name, text, key, tip in TOOLS:
            action = make_action(
                window, text, [key], lambda _=False, n=name: editing.use_tool(n), tip
            )
            action.setCheckable(True)
            self.tools.addAction(action)
            self.tool_actions[name] = action
        self.delete = make_action(
            window,
            "&Delete",
            [QKeySequence.StandardKey.Delete],
            editing.delete_selected,
            "Delete the chosen vertices, or else the selected cells",
        )
        self.select_all = make_action(
            window,
            "Select &all cells",
            [QKeySequence.StandardKey.SelectAll],
            editing.select_all,
            "Select every cell of the image",
        )
        self.accept = make_action(
            window,
            "&Accept the proposal",
            ["A"],
            editing.proposals.accept,
            "Make the chosen predicted cell an annotation cell",
        )
        self.reject = make_action(
            window,
            "&Reject the proposal",
            ["R"],
            editing.proposals.reject,
            "Hide the chosen predicted cell and remember it as rejected",
        )
        self.class_menu = QMenu("Set the &class")
        self.class_actions: list[QAction] = []
        self._share_the_one_key()

        self.history = QUndoView(group)
        self.history.setEmptyLabel("Opened")
        self.history.setObjectName("undoHistory")
        self.history_dock = QDockWidget("History", window)
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.history_dock.hide()
        self.show_history = self.history_dock.toggleViewAction()
        self.show_history.setText("Undo &history")
        self.show_history.setShortcut(QKeySequence("Ctrl+H"))
        # Shown among tabbed docks, it comes to the front.
        self.show_history.triggered.connect(
            lambda shown: shown and self.history_dock.raise_()
        )
        window.addAction(self.show_history)

        self.menu = self._build_menu()
        self.toolbar = self._build_toolbar()
        self._add_save_to_file_menu()

    # -- building ----------------------------------------------------------------------

    def _build_menu(self) -> QMenu:
        menu = QMenu("&Edit", self.window)
        menu.addAction(self.undo)
        menu.addAction(self.redo)
        menu.addAction(self.show_history)
        menu.addSeparator()
        for action in self.tool_actions.values():
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.select_all)
        menu.addAction(self.delete)
        menu.addMenu(self.class_menu)
        menu.addSeparator()
        menu.addAction(self.accept)
        menu.addAction(self.reject)
        bar = self.window.menuBar()
        menus = bar.actions()
        # Between File and View, where every editor puts it.
        if len(menus) > 1:
            bar.insertMenu(menus[1], menu)
        else:
            bar.addMenu(menu)
        return menu

    def _build_toolbar(self) -> QToolBar:
        toolbar = QToolBar("Edit", self.window)
        toolbar.setObjectName("editToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action, text in (
            (self.tool_actions["edit"], "Edit"),
            (self.tool_actions["box"], "Box"),
            (self.tool_actions["draw"], "Draw cell"),
            (self.tool_actions["nucleus"], "Nucleus"),
        ):
            action.setIconText(text)
            toolbar.addAction(action)
        toolbar.addSeparator()
        self.undo.setIconText("Undo")
        self.redo.setIconText("Redo")
        self.save.setIconText("Save")
        for action in (self.undo, self.redo, self.save):
            toolbar.addAction(action)
        self.window.addToolBar(toolbar)
        return toolbar

    def _add_save_to_file_menu(self) -> None:
        quit_action = getattr(self.window, "quit_action", None)
        menus = [] if quit_action is None else quit_action.associatedObjects()
        file_menu = next((menu for menu in menus if isinstance(menu, QMenu)), None)
        if file_menu is not None:
            file_menu.insertAction(quit_action, self.save)
            file_menu.insertSeparator(quit_action)

    def _share_the_one_key(self) -> None:
        """The plain 1 key sets the first class of the selected cells; with none
        selected it still shows the image at 1:1 (Ctrl+1 always does)."""
        actual_size = getattr(self.window, "actual_size_action", None)
        if actual_size is None:
            return
        keys = [key for key in actual_size.shortcuts() if key != QKeySequence("1")]
        actual_size.setShortcuts(keys)
        if keys:
            actual_size.setToolTip(
                f"One screen pixel per image pixel ({keys[0].toString()}, or 1 "
                "with no cell selected)"
            )

    def set_classes(self, palette: ClassPalette) -> None:
        """One action per class of the dataset, the first nine on keys 1 to 9."""
        for action in self.class_actions:
            self.window.removeAction(action)
            action.deleteLater()
        self.class_menu.clear()
        self.class_actions = []
        for number, cell_class in enumerate(palette.scheme.classes, start=1):
            name = cell_class.name
            keys = [str(number)] if number <= MAX_CLASS_KEYS else []
            prefix = f"&{number} " if number <= MAX_CLASS_KEYS else ""
            action = make_action(
                self.window,
                f"{prefix}{palette.label(name)}",
                keys,
                lambda _=False, n=name, k=number: self.editing.class_key(n, k),
                f"Give the selected cells the class {palette.label(name)}",
            )
            action.setIcon(swatch_icon(palette, name))
            self.class_menu.addAction(action)
            self.class_actions.append(action)

    # -- state -------------------------------------------------------------------------

    def update(self, editable: bool, has_cells: bool, has_proposal: bool) -> None:
        """Enable what can be done now."""
        for action in (self.save, self.tool_actions["draw"]):
            action.setEnabled(editable)
        self.tool_actions["nucleus"].setEnabled(editable)
        self.delete.setEnabled(editable)
        for number, action in enumerate(self.class_actions, start=1):
            # Key 1 stays on: without a selection it zooms to 1:1.
            action.setEnabled(editable or number == 1)
        self.accept.setEnabled(editable and has_proposal)
        self.reject.setEnabled(editable and has_proposal)
        self.select_all.setEnabled(has_cells)
