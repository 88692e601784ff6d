"""The outlines of an image's cells, whole cell and nucleus, ready for drawing and
picking: what the viewer's outline layers hold instead of one item per cell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.annotations import Cell
from engine.images.outlines import OutlineSet
from engine.predictions import PredictedCell


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
        """Index annotated cells; classes not in `class_names` are added after them."""
        return cls.build(
            [cell.cytoplasm for cell in cells],
            [cell.nucleus for cell in cells],
            [cell.class_name for cell in cells],
            [cell.index for cell in cells],
            [cell.score for cell in cells],
            [cell.probabilities for cell in cells],
            class_names,
        )

    @classmethod
    def from_predictions(
        cls, cells: Sequence[PredictedCell], class_names: Sequence[str] = ()
    ) -> CellOutlines:
        """Index predicted cells; a cell without a predicted class gets ""."""
        return cls.build(
            [cell.cytoplasm for cell in cells],
            [cell.nucleus for cell in cells],
            [cell.predicted_class or "" for cell in cells],
            [cell.id for cell in cells],
            [cell.score for cell in cells],
            [cell.probabilities for cell in cells],
            class_names,
        )

    @classmethod
    def build(
        cls,
        cytoplasms: Sequence[np.ndarray],
        nuclei: Sequence[np.ndarray | None],
        cell_classes: Sequence[str],
        ids: Sequence[int],
        scores: Sequence[float | None],
        probabilities: Sequence[dict[str, float] | None],
        class_names: Sequence[str] = (),
    ) -> CellOutlines:
        """Index cells given as parallel lists, one entry per cell."""
        names = list(class_names)
        codes_of = {name: code for code, name in enumerate(names)}
        count = len(cytoplasms)
        codes = np.empty(count, dtype=np.int64)
        for row, class_name in enumerate(cell_classes):
            code = codes_of.get(class_name)
            if code is None:
                code = codes_of[class_name] = len(names)
                names.append(class_name)
            codes[row] = code
        nucleus_rows = [
            row
            for row, nucleus in enumerate(nuclei)
            if nucleus is not None and len(nucleus)
        ]
        table = np.full((count, len(names)), np.nan)
        for row, values in enumerate(probabilities):
            for name, value in (values or {}).items():
                if name in codes_of:
                    table[row, codes_of[name]] = value
        outlines = cls(
            cytoplasm=OutlineSet(cytoplasms),
            nuclei=OutlineSet([nuclei[row] for row in nucleus_rows]),
            nucleus_rows=np.asarray(nucleus_rows, dtype=np.int64),
            cell_ids=np.asarray(list(ids), dtype=np.int64).reshape(count),
            class_codes=codes,
            class_names=names,
            scores=np.array(
                [np.nan if score is None else score for score in scores], dtype=float
            ).reshape(count),
            probabilities=table,
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
