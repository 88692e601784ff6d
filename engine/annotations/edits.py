"""Annotation edits as small reversible records applied to one image's cells, so
undo, redo and the window's undo commands share one tested, Qt-free behaviour.

Each edit keeps only what it changes (one outline, one cell, a few classes) and
checks that the image is in the state it starts from before changing anything,
so a history applied out of order fails loudly instead of corrupting cells.
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from engine.annotations.cell_json import (
    PARTS,
    cell_from_json,
    cell_to_json,
    copy_cell,
    outline_from_json,
    outline_to_json,
    same_cell,
    same_outline,
)
from engine.annotations.cells import Cell, ImageKind, ImageRecord, ReviewState
from engine.annotations.errors import AnnotationError

log = logging.getLogger(__name__)


class EditMismatchError(AnnotationError):
    """An edit applied to an image that is not in the state the edit starts from."""


def _position(image: ImageRecord, cell_index: int) -> int:
    for position, cell in enumerate(image.cells):
        if cell.index == cell_index:
            return position
    raise EditMismatchError(f"{image.key} has no cell {cell_index} to change")


def _mismatch(image: ImageRecord, what: str) -> EditMismatchError:
    return EditMismatchError(
        f"{image.key}: {what}, so the edit was not applied; the image was changed "
        "outside the edit history"
    )


class Edit(abc.ABC):
    """One reversible change to an image's cells."""

    kind: ClassVar[str] = ""
    _kinds: ClassVar[dict[str, type[Edit]]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Edit._kinds[cls.kind] = cls

    @property
    @abc.abstractmethod
    def text(self) -> str:
        """What the edit did, in the words of an Undo menu entry."""

    @abc.abstractmethod
    def apply(self, image: ImageRecord) -> None:
        """Make the change; raise EditMismatchError, changing nothing, when the
        image is not in the state the edit starts from."""

    @abc.abstractmethod
    def revert(self, image: ImageRecord) -> None:
        """Take the change back, with the same check as `apply`."""

    @abc.abstractmethod
    def to_json(self) -> dict:
        """The edit as JSON values, with its kind under "type"."""

    @classmethod
    def from_json(cls, data: dict) -> Edit:
        """The edit that `to_json` wrote, of whichever kind it names."""
        kind = Edit._kinds.get(data.get("type", ""))
        if kind is None:
            raise ValueError(f"unknown edit type {data.get('type')!r}")
        return kind._from_json(data)

    @classmethod
    @abc.abstractmethod
    def _from_json(cls, data: dict) -> Edit:
        """The edit of this kind that `to_json` wrote."""


@dataclass(eq=False)
class SetOutline(Edit):
    """A cell's cytoplasm or nucleus outline replaced; a nucleus may be added
    (before None) or removed (after None)."""

    kind: ClassVar[str] = "set_outline"

    cell_index: int
    part: str
    before: np.ndarray | None
    after: np.ndarray | None

    def __post_init__(self) -> None:
        if self.part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, not {self.part!r}")
        self.before = outline_from_json(self.before)
        self.after = outline_from_json(self.after)
        if self.part == "cytoplasm" and (self.before is None or self.after is None):
            raise ValueError("a cell always has a cytoplasm outline")

    @classmethod
    def of(cls, image: ImageRecord, cell_index: int, part: str, after) -> SetOutline:
        """The edit giving cell `cell_index` of `image` a new outline for `part`."""
        before = getattr(image.cell(cell_index), part)
        return cls(cell_index, part, None if before is None else before.copy(), after)

    @property
    def text(self) -> str:
        if self.before is None:
            return f"Draw the nucleus of cell {self.cell_index}"
        if self.after is None:
            return f"Remove the nucleus of cell {self.cell_index}"
        return f"Change the {self.part} outline of cell {self.cell_index}"

    def _swap(self, image: ImageRecord, expected, replacement) -> None:
        cell = image.cells[_position(image, self.cell_index)]
        if not same_outline(getattr(cell, self.part), expected):
            raise _mismatch(image, f"the {self.part} of cell {self.cell_index} differs")
        setattr(cell, self.part, None if replacement is None else replacement.copy())

    def apply(self, image: ImageRecord) -> None:
        self._swap(image, self.before, self.after)

    def revert(self, image: ImageRecord) -> None:
        self._swap(image, self.after, self.before)

    def to_json(self) -> dict:
        return {
            "type": self.kind,
            "cell_index": self.cell_index,
            "part": self.part,
            "before": outline_to_json(self.before),
            "after": outline_to_json(self.after),
        }

    @classmethod
    def _from_json(cls, data: dict) -> SetOutline:
        return cls(int(data["cell_index"]), data["part"], data["before"], data["after"])


@dataclass(eq=False)
class AddCell(Edit):
    """A new cell added at the end of the image's cells. A cell whose index is
    below 1 takes the image's next free index when first applied, and keeps it."""

    kind: ClassVar[str] = "add_cell"

    cell: Cell

    def __post_init__(self) -> None:
        # The edit's own copy: later changes to the caller's cell do not leak in.
        self.cell = copy_cell(self.cell)

    @property
    def text(self) -> str:
        return f"Add cell {self.cell.index}" if self.cell.index >= 1 else "Add a cell"

    def apply(self, image: ImageRecord) -> None:
        if image.kind is ImageKind.CROPPED and image.cells:
            raise EditMismatchError(
                f"{image.key} is an isolated cell image and holds exactly one cell; "
                "add the cell to its cluster image instead"
            )
        if self.cell.index < 1:
            self.cell.index = image.next_free_index()
        elif any(cell.index == self.cell.index for cell in image.cells):
            raise _mismatch(image, f"cell {self.cell.index} already exists")
        image.cells.append(copy_cell(self.cell))

    def revert(self, image: ImageRecord) -> None:
        position = _position(image, self.cell.index)
        if not same_cell(image.cells[position], self.cell):
            raise _mismatch(image, f"cell {self.cell.index} changed after it was added")
        del image.cells[position]

    def to_json(self) -> dict:
        return {"type": self.kind, "cell": cell_to_json(self.cell)}

    @classmethod
    def _from_json(cls, data: dict) -> AddCell:
        return cls(cell_from_json(data["cell"]))


@dataclass(eq=False)
class DeleteCell(Edit):
    """A cell removed; the whole cell and its place are kept to bring it back."""

    kind: ClassVar[str] = "delete_cell"

    cell: Cell
    position: int | None = None

    def __post_init__(self) -> None:
        self.cell = copy_cell(self.cell)

    @classmethod
    def of(cls, image: ImageRecord, cell_index: int) -> DeleteCell:
        position = _position(image, cell_index)
        return cls(image.cells[position], position)

    @property
    def text(self) -> str:
        return f"Delete cell {self.cell.index}"

    def apply(self, image: ImageRecord) -> None:
        position = _position(image, self.cell.index)
        if not same_cell(image.cells[position], self.cell):
            raise _mismatch(
                image, f"cell {self.cell.index} differs from the one to delete"
            )
        self.position = position
        del image.cells[position]

    def revert(self, image: ImageRecord) -> None:
        if any(cell.index == self.cell.index for cell in image.cells):
            raise _mismatch(image, f"cell {self.cell.index} already exists")
        position = len(image.cells) if self.position is None else self.position
        image.cells.insert(position, copy_cell(self.cell))

    def to_json(self) -> dict:
        return {
            "type": self.kind,
            "cell": cell_to_json(self.cell),
            "position": self.position,
        }

    @classmethod
    def _from_json(cls, data: dict) -> DeleteCell:
        return cls(cell_from_json(data["cell"]), data.get("position"))


@dataclass(eq=False)
class _SetCellField(Edit):
    """One field of several cells set to one value; each cell's old value kept."""

    field_name: ClassVar[str] = ""

    cell_indices: list[int]
    before: list
    after: object

    def __post_init__(self) -> None:
        self.cell_indices = [int(index) for index in self.cell_indices]
        self.before = [self._value(value) for value in self.before]
        self.after = self._value(self.after)
        if len(self.before) != len(self.cell_indices):
            raise ValueError("before needs one value per cell")

    @staticmethod
    def _value(value):
        return value

    @classmethod
    def of(cls, image: ImageRecord, cell_indices, after) -> _SetCellField:
        """The edit setting the field of these cells of `image` to `after`."""
        indices = list(cell_indices)
        before = [getattr(image.cell(index), cls.field_name) for index in indices]
        return cls(indices, before, after)

    def _set(self, image: ImageRecord, expected: list, values: list) -> None:
        cells = [image.cells[_position(image, index)] for index in self.cell_indices]
        for cell, value in zip(cells, expected, strict=True):
            if getattr(cell, self.field_name) != value:
                raise _mismatch(
                    image, f"the {self.field_name} of cell {cell.index} differs"
                )
        for cell, value in zip(cells, values, strict=True):
            setattr(cell, self.field_name, value)

    def apply(self, image: ImageRecord) -> None:
        self._set(image, self.before, [self.after] * len(self.cell_indices))

    def revert(self, image: ImageRecord) -> None:
        self._set(image, [self.after] * len(self.cell_indices), self.before)

    def _cells_text(self) -> str:
        if len(self.cell_indices) == 1:
            return f"cell {self.cell_indices[0]}"
        return f"{len(self.cell_indices)} cells"

    def _json_value(self, value):
        return value

    def to_json(self) -> dict:
        return {
            "type": self.kind,
            "cell_indices": list(self.cell_indices),
            "before": [self._json_value(value) for value in self.before],
            "after": self._json_value(self.after),
        }

    @classmethod
    def _from_json(cls, data: dict) -> _SetCellField:
        return cls(data["cell_indices"], data["before"], data["after"])


class SetClass(_SetCellField):
    """Cells given a class other than (or back to) their folder's."""

    kind: ClassVar[str] = "set_class"
    field_name: ClassVar[str] = "class_name"

    @property
    def text(self) -> str:
        return f"Set the class of {self._cells_text()} to {self.after}"


class SetReviewState(_SetCellField):
    """Cells accepted, rejected, marked corrected or back to unreviewed."""

    kind: ClassVar[str] = "set_review_state"
    field_name: ClassVar[str] = "review_state"

    @staticmethod
    def _value(value) -> ReviewState:
        return ReviewState(value)

    def _json_value(self, value) -> str:
        return value.value

    @property
    def text(self) -> str:
        return f"Mark {self._cells_text()} {self.after.value}"


@dataclass(eq=False)
class EditGroup(Edit):
    """Several edits that undo and redo as one, such as a new cell outline and the
    nucleus clipped to fit inside it."""

    kind: ClassVar[str] = "group"

    edits: list[Edit] = field(default_factory=list)
    description: str = ""

    @property
    def text(self) -> str:
        if self.description or not self.edits:
            return self.description
        return self.edits[0].text

    def apply(self, image: ImageRecord) -> None:
        done: list[Edit] = []
        try:
            for edit in self.edits:
                edit.apply(image)
                done.append(edit)
        except AnnotationError:
            # All or nothing: the parts already applied are taken back.
            for edit in reversed(done):
                edit.revert(image)
            raise

    def revert(self, image: ImageRecord) -> None:
        undone: list[Edit] = []
        try:
            for edit in reversed(self.edits):
                edit.revert(image)
                undone.append(edit)
        except AnnotationError:
            for edit in reversed(undone):
                edit.apply(image)
            raise

    def to_json(self) -> dict:
        return {
            "type": self.kind,
            "description": self.description,
            "edits": [edit.to_json() for edit in self.edits],
        }

    @classmethod
    def _from_json(cls, data: dict) -> EditGroup:
        edits = [Edit.from_json(part) for part in data["edits"]]
        return cls(edits, data.get("description", ""))


class EditHistory:
    """The edits of one image in order, and how many of them are applied: do,
    undo and redo without a limit, as a QUndoStack would."""

    def __init__(self, image: ImageRecord):
        self.image = image
        self._edits: list[Edit] = []
        self.position = 0

    def __len__(self) -> int:
        return len(self._edits)

    @property
    def edits(self) -> tuple[Edit, ...]:
        return tuple(self._edits)

    @property
    def can_undo(self) -> bool:
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        return self.position < len(self._edits)

    def do(self, edit: Edit) -> None:
        """Apply the edit; the edits undone before it can no longer be redone."""
        edit.apply(self.image)
        del self._edits[self.position :]
        self._edits.append(edit)
        self.position += 1
        log.debug("%s: %s", self.image.key, edit.text)

    def undo(self) -> Edit | None:
        """Revert the last applied edit and return it; None when there is none."""
        if not self.can_undo:
            return None
        edit = self._edits[self.position - 1]
        edit.revert(self.image)
        self.position -= 1
        return edit

    def redo(self) -> Edit | None:
        """Apply again the edit undone last and return it; None when there is none."""
        if not self.can_redo:
            return None
        edit = self._edits[self.position]
        edit.apply(self.image)
        self.position += 1
        return edit
