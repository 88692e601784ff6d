"""Cells as plain values: copied, compared and written as JSON that reads back
equal, for the edit records and the crash journal."""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.annotations.cells import Cell, Origin, ReviewState
from engine.annotations.datfile import DatStyle

PARTS = ("cytoplasm", "nucleus")


def copy_cell(cell: Cell) -> Cell:
    """A copy of the cell that shares no array or dict with it."""
    return dataclasses.replace(
        cell,
        cytoplasm=cell.cytoplasm.copy(),
        nucleus=None if cell.nucleus is None else cell.nucleus.copy(),
        probabilities=None if cell.probabilities is None else dict(cell.probabilities),
    )


def same_outline(first: np.ndarray | None, second: np.ndarray | None) -> bool:
    if first is None or second is None:
        return first is None and second is None
    return np.array_equal(first, second)


def same_cell(first: Cell, second: Cell) -> bool:
    """Whether two cells are equal in every field, outlines vertex for vertex."""
    return all(
        same_outline(getattr(first, name), getattr(second, name))
        if name in PARTS
        else getattr(first, name) == getattr(second, name)
        for name in (f.name for f in dataclasses.fields(Cell))
    )


def outline_to_json(vertices: np.ndarray | None) -> list | None:
    return None if vertices is None else np.asarray(vertices).tolist()


def outline_from_json(data: list | None) -> np.ndarray | None:
    return None if data is None else np.array(data, dtype=np.float64).reshape(-1, 2)


def cell_to_json(cell: Cell) -> dict:
    """The cell as JSON values; floats keep every bit, so it reads back equal."""
    return {
        "index": cell.index,
        "cytoplasm": outline_to_json(cell.cytoplasm),
        "nucleus": outline_to_json(cell.nucleus),
        "class_name": cell.class_name,
        "origin": cell.origin.value,
        "score": cell.score,
        "review_state": cell.review_state.value,
        "probabilities": cell.probabilities,
        "cytoplasm_style": dataclasses.asdict(cell.cytoplasm_style),
        "nucleus_style": dataclasses.asdict(cell.nucleus_style),
    }


def cell_from_json(data: dict) -> Cell:
    return Cell(
        index=int(data["index"]),
        cytoplasm=outline_from_json(data["cytoplasm"]),
        nucleus=outline_from_json(data["nucleus"]),
        class_name=str(data["class_name"]),
        origin=Origin(data["origin"]),
        score=data["score"],
        review_state=ReviewState(data["review_state"]),
        probabilities=data["probabilities"],
        cytoplasm_style=DatStyle(**data["cytoplasm_style"]),
        nucleus_style=DatStyle(**data["nucleus_style"]),
    )
