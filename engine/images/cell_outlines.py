"""The outlines of an image's cells, whole cell and nucleus, ready for drawing and
picking: what the viewer's outline layers hold instead of one item per cell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.annotations import Cell
from engine.images.outlines import OutlineSet


@dataclass
class CellOutlines:
    """Cells as rows: row r is `cell_ids[r]` (the cell's index in its image).

    `class_codes[r]` indexes `class_names`; `nucleus_rows[k]` is the row whose
    nucleus is `nuclei` outline k. `scores` and `probabilities` (one row per
    cell, one column per class name) are NaN where unknown.
    """

    cytoplasm: OutlineSet
    nuclei: OutlineSet
    nucleus_rows: np.ndarray
    cell_ids: np.ndarray
    class_codes: np.ndarray
    class_names: list[str]
    scores: np.ndarray
    probabilities: np.ndarray
    _row_of_id: dict[int, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_cells(
        cls, cells: Sequence[Cell], class_names: Sequence[str] = ()
    ) -> CellOutlines:
        """Index `cells`; classes not in `class_names` are added after them."""
        names = list(class_names)
        codes_of = {name: code for code, name in enumerate(names)}
        codes = np.empty(len(cells), dtype=np.int64)
        scores = np.full(len(cells), np.nan)
        nuclei, nucleus_rows = [], []
        for row, cell in enumerate(cells):
            code = codes_of.get(cell.class_name)
            if code is None:
                code = codes_of[cell.class_name] = len(names)
                names.append(cell.class_name)
            codes[row] = code
            if cell.score is not None:
                scores[row] = cell.score
            if cell.nucleus is not None and len(cell.nucleus):
                nuclei.append(cell.nucleus)
                nucleus_rows.append(row)
        probabilities = np.full((len(cells), len(names)), np.nan)
        for row, cell in enumerate(cells):
            for name, value in (cell.probabilities or {}).items():
                code = codes_of.get(name)
                if code is not None:
                    probabilities[row, code] = value
        outlines = cls(
            cytoplasm=OutlineSet([cell.cytoplasm for cell in cells]),
            nuclei=OutlineSet(nuclei),
            nucleus_rows=np.asarray(nucleus_rows, dtype=np.int64),
            cell_ids=np.fromiter((c.index for c in cells), np.int64, len(cells)),
            class_codes=codes,
            class_names=names,
            scores=scores,
            probabilities=probabilities,
        )
        outlines._row_of_id = {int(i): row for row, i in enumerate(outlines.cell_ids)}
        return outlines

    def __len__(self) -> int:
        return len(self.cell_ids)

    def row_of(self, cell_id: int) -> int | None:
        """The row of the cell with index `cell_id`, or None."""
        return self._row_of_id.get(int(cell_id))

    def prepare(self) -> None:
        """Compute every level of detail now, so drawing never has to."""
        self.cytoplasm.prepare_levels()
        self.nuclei.prepare_levels()

    def row_at(self, x: float, y: float) -> int | None:
        """The cell under a point: of overlapping cells, the one whose nucleus is
        under the point, else the smallest; None when no cell is there."""
        rows = self.cytoplasm.containing(x, y)
        if len(rows) == 0:
            return None
        if len(rows) == 1:
            return int(rows[0])
        under_nucleus = set(self.nucleus_rows[self.nuclei.containing(x, y)].tolist())
        preferred = [row for row in rows.tolist() if row in under_nucleus]
        if preferred:
            rows = np.asarray(preferred)
        areas = self.cytoplasm.areas(rows)
        return int(rows[int(np.argmin(areas))])
