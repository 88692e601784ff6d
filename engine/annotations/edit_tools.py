"""The edits the window's editing tools make: each outline cleaned to a valid
polygon on its image, held at the precision its `.dat` file stores, and the
nucleus kept inside its cell, so that applying the edit cannot fail.
"""

from __future__ import annotations

import numpy as np

from engine.annotations.cells import ImageKind, ImageRecord
from engine.annotations.dataset import new_cell
from engine.annotations.datfile import DEFAULT_STYLE, DatStyle, representable
from engine.annotations.edits import AddCell, Edit, EditGroup, SetOutline
from engine.annotations.errors import AnnotationError, GeometryError
from engine.annotations.geometry import (
    clean_outline,
    fit_nucleus,
    nucleus_fits,
    translate,
)


def storable_outline(
    vertices, style: DatStyle, image_size: tuple[int, int] | None
) -> np.ndarray:
    """The outline cleaned and rounded as its `.dat` file will store it, so what
    the reviewer sees is what a save writes and reopens."""
    outline = clean_outline(vertices, image_size)
    stored = representable(outline, style)
    if np.array_equal(stored, outline):
        return outline
    # Rounding can fold a thin part onto itself; clean once more, then it must hold.
    outline = clean_outline(stored, image_size)
    if not np.array_equal(representable(outline, style), outline):
        raise GeometryError(
            "the outline is too thin to store in whole pixels; draw it larger"
        )
    return outline


def _fitted_nucleus(
    cytoplasm: np.ndarray,
    nucleus: np.ndarray,
    style: DatStyle,
    image_size: tuple[int, int] | None,
) -> np.ndarray:
    fitted = fit_nucleus(cytoplasm, nucleus)
    if np.array_equal(fitted, nucleus):
        return nucleus
    stored = storable_outline(fitted, style, image_size)
    if not nucleus_fits(cytoplasm, stored):
        raise GeometryError(
            "the nucleus is too close to the edge of its cell to store in whole "
            "pixels; draw it a little further inside"
        )
    return stored


def outline_edit(
    image: ImageRecord, cell_index: int, part: str, vertices
) -> SetOutline | EditGroup:
    """The edit giving a cell a new cytoplasm or nucleus outline. A new nucleus is
    clipped to its cell; a new cell outline that leaves the nucleus poking out
    clips the nucleus too, in the same edit. Raise GeometryError when the outline
    cannot be made valid."""
    cell = image.cell(cell_index)
    style = cell.cytoplasm_style if part == "cytoplasm" else cell.nucleus_style
    outline = storable_outline(vertices, style, image.size)
    if part == "nucleus":
        outline = _fitted_nucleus(cell.cytoplasm, outline, style, image.size)
        return SetOutline.of(image, cell_index, "nucleus", outline)

    edit = SetOutline.of(image, cell_index, "cytoplasm", outline)
    if cell.nucleus is None or nucleus_fits(outline, cell.nucleus):
        return edit
    nucleus = _fitted_nucleus(outline, cell.nucleus, cell.nucleus_style, image.size)
    return EditGroup(
        [edit, SetOutline.of(image, cell_index, "nucleus", nucleus)], edit.text
    )


def move_cell_edit(
    image: ImageRecord, cell_index: int, dx: float, dy: float
) -> EditGroup:
    """The edit moving a whole cell, nucleus included; a cell pushed past the
    image's edge is flattened against it."""
    cell = image.cell(cell_index)
    cytoplasm = storable_outline(
        translate(cell.cytoplasm, dx, dy), cell.cytoplasm_style, image.size
    )
    edits: list[Edit] = [SetOutline.of(image, cell_index, "cytoplasm", cytoplasm)]
    if cell.nucleus is not None:
        nucleus = storable_outline(
            translate(cell.nucleus, dx, dy), cell.nucleus_style, image.size
        )
        nucleus = _fitted_nucleus(cytoplasm, nucleus, cell.nucleus_style, image.size)
        edits.append(SetOutline.of(image, cell_index, "nucleus", nucleus))
    return EditGroup(edits, f"Move cell {cell_index}")


def new_cell_edit(
    image: ImageRecord,
    cytoplasm,
    nucleus=None,
    class_name: str | None = None,
    **fields,
) -> AddCell:
    """The edit adding a newly drawn cell, of the image's folder class unless
    `class_name` says otherwise, written in the style of the image's other cells.
    Other `fields` (origin, score, review_state, probabilities) go to the cell."""
    if image.kind is ImageKind.CROPPED and image.cells:
        raise AnnotationError(
            f"{image.key} is an isolated cell image and holds exactly one cell; "
            "draw the new cell on its cluster image"
        )
    style = image.cells[0].cytoplasm_style if image.cells else DEFAULT_STYLE
    cytoplasm = storable_outline(cytoplasm, style, image.size)
    if nucleus is not None:
        nucleus = storable_outline(nucleus, style, image.size)
        nucleus = _fitted_nucleus(cytoplasm, nucleus, style, image.size)
    cell = new_cell(
        cytoplasm,
        nucleus,
        class_name or image.folder_class,
        cytoplasm_style=style,
        nucleus_style=style,
        **fields,
    )
    return AddCell(cell)
