"""Which cells are selected: the one selection that the viewer, the inspector, the
measurement table and the plots (and later the editing tools) share.

A selection is an image key and a tuple of cell indices (`Cell.index`, the
`KK` of the cell's files), so it survives reordering and names the same cells
in every view. Whoever changes it calls `select`; everyone else listens to
`selection_changed`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class CellSelection(QObject):
    """The selected cells of one image; empty when nothing is selected."""

    selection_changed = Signal(str, tuple)  # image key ("" for none), cell indices

    def __init__(self, parent=None):
        super().__init__(parent)
        self._key = ""
        self._cells: tuple[int, ...] = ()

    @property
    def image_key(self) -> str:
        return self._key

    @property
    def cells(self) -> tuple[int, ...]:
        return self._cells

    def current(self) -> int | None:
        """The last selected cell, or None."""
        return self._cells[-1] if self._cells else None

    def select(self, image_key: str, cells) -> None:
        """Make `cells` (indices in image `image_key`) the selection."""
        cells = tuple(dict.fromkeys(int(cell) for cell in cells))
        if (image_key, cells) == (self._key, self._cells):
            return
        self._key, self._cells = image_key, cells
        self.selection_changed.emit(self._key, self._cells)

    def toggle(self, image_key: str, cell: int) -> None:
        """Add `cell` to the selection, or take it out if it is in it."""
        if image_key != self._key:
            self.select(image_key, (cell,))
            return
        cells = [c for c in self._cells if c != cell]
        if len(cells) == len(self._cells):
            cells.append(cell)
        self.select(image_key, cells)

    def clear(self) -> None:
        self.select(self._key, ())

    def is_selected(self, image_key: str, cell: int) -> bool:
        return image_key == self._key and cell in self._cells
