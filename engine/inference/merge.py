"""One cell from many tiles: instances found in overlapping tiles merged across
tile borders, and handed on once no later tile can touch them.

The rule, in working pixels of the model's grid:

1. Two instances from different tiles are the same cell when their masks,
   compared only inside the region both tiles saw, have an IoU of at least
   0.5. A cell cut by a tile's edge is whole in the region that tile saw, so
   the cut-off piece and the whole cell agree there. The merged cell's mask
   is the union of its pieces; its score and label are the best piece's.
2. A piece that touches an inner edge of its tile (one that is not the
   image's border) and lies wholly outside the tile's core is left out: it
   is the sliver of a cell that the neighbouring tile sees further from
   its own edge.

Instances of the same tile are never merged: Mask R-CNN has already removed
its duplicates, and cells in a cluster overlap for real.

Tiles arrive row by row. After a row, every cell that ends above the next
row's first pixel is final, so only a band of open cells is ever held.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.inference.tiling import Tile, TileGrid

SAME_CELL_IOU = 0.5
MIN_INSTANCE_PIXELS = 4


@dataclass(eq=False)
class TileInstance:
    """A cell found in one tile: its mask cropped to its box, in working pixels."""

    mask: np.ndarray  # (h, w) bool
    x0: int
    y0: int
    score: float
    label: int
    tile: Tile

    @property
    def box(self) -> tuple[int, int, int, int]:
        height, width = self.mask.shape
        return self.x0, self.y0, self.x0 + width, self.y0 + height


@dataclass(eq=False)
class MergedCell:
    """A cell as one or more tile instances; its mask is their union."""

    pieces: list[TileInstance] = field(default_factory=list)

    @property
    def box(self) -> tuple[int, int, int, int]:
        boxes = np.array([piece.box for piece in self.pieces])
        return (
            int(boxes[:, 0].min()),
            int(boxes[:, 1].min()),
            int(boxes[:, 2].max()),
            int(boxes[:, 3].max()),
        )

    @property
    def best(self) -> TileInstance:
        return max(self.pieces, key=lambda piece: piece.score)

    @property
    def score(self) -> float:
        return self.best.score

    @property
    def label(self) -> int:
        return self.best.label

    def mask(self) -> tuple[np.ndarray, int, int]:
        """The union of the pieces' masks over the cell's box, and its origin."""
        x0, y0, x1, y1 = self.box
        union = np.zeros((y1 - y0, x1 - x0), bool)
        for piece in self.pieces:
            px0, py0, px1, py1 = piece.box
            union[py0 - y0 : py1 - y0, px0 - x0 : px1 - x0] |= piece.mask
        return union, x0, y0


def _intersection(a, b) -> tuple[int, int, int, int] | None:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def _window(piece: TileInstance, window) -> np.ndarray:
    """The piece's mask over a window (x0, y0, x1, y1), zero where it has none."""
    x0, y0, x1, y1 = window
    out = np.zeros((y1 - y0, x1 - x0), bool)
    overlap = _intersection(piece.box, window)
    if overlap is not None:
        ox0, oy0, ox1, oy1 = overlap
        out[oy0 - y0 : oy1 - y0, ox0 - x0 : ox1 - x0] = piece.mask[
            oy0 - piece.y0 : oy1 - piece.y0, ox0 - piece.x0 : ox1 - piece.x0
        ]
    return out


def same_cell(a: TileInstance, b: TileInstance, min_iou: float = SAME_CELL_IOU) -> bool:
    """Whether pieces of two different tiles show the same cell (rule 1)."""
    if a.tile.index == b.tile.index:
        return False
    seen_by_both = _intersection(a.tile.box, b.tile.box)
    if seen_by_both is None or _intersection(a.box, b.box) is None:
        return False
    boxes = np.array([a.box, b.box])
    around = (*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0))
    window = _intersection(seen_by_both, around)
    if window is None:
        return False
    mask_a, mask_b = _window(a, window), _window(b, window)
    union = np.count_nonzero(mask_a | mask_b)
    if union == 0:
        return False
    return np.count_nonzero(mask_a & mask_b) / union >= min_iou


def tile_piece(
    tile: Tile,
    crop: np.ndarray,
    left: int,
    top: int,
    score: float,
    label: int,
    grid: TileGrid,
) -> TileInstance | None:
    """A piece of a tile: its mask `crop` with its top-left at (left, top) in the
    tile; None for too few pixels or an edge sliver (rule 2)."""
    if np.count_nonzero(crop) < MIN_INSTANCE_PIXELS:
        return None
    bottom, right = top + crop.shape[0], left + crop.shape[1]
    box = (tile.x + left, tile.y + top, tile.x + right, tile.y + bottom)
    touches_inner_edge = (
        (left == 0 and tile.x > 0)
        or (top == 0 and tile.y > 0)
        or (right == tile.size and tile.x + tile.size < grid.width)
        or (bottom == tile.size and tile.y + tile.size < grid.height)
    )
    if touches_inner_edge and _intersection(box, tile.core) is None:
        return None
    return TileInstance(crop, box[0], box[1], float(score), int(label), tile)


def instances_of_tile(
    tile: Tile,
    masks: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray,
    grid: TileGrid,
) -> list[TileInstance]:
    """A tile's (N, T, T) boolean masks as pieces cropped to their boxes, cut to the
    image, without empty masks and edge slivers."""
    inside_w = min(tile.size, grid.width - tile.x)
    inside_h = min(tile.size, grid.height - tile.y)
    pieces = []
    for mask, score, label in zip(masks, scores, labels, strict=True):
        mask = np.asarray(mask, bool)[:inside_h, :inside_w]
        rows = np.flatnonzero(mask.any(axis=1))
        if len(rows) == 0:
            continue
        columns = np.flatnonzero(mask.any(axis=0))
        top, bottom = int(rows[0]), int(rows[-1]) + 1
        left, right = int(columns[0]), int(columns[-1]) + 1
        crop = mask[top:bottom, left:right]
        piece = tile_piece(tile, crop, left, top, score, label, grid)
        if piece is not None:
            pieces.append(piece)
    return pieces


class InstanceMerger:
    """Collects the pieces of each tile and hands on whole cells row by row."""

    def __init__(self, grid: TileGrid, min_iou: float = SAME_CELL_IOU):
        self.grid = grid
        self.min_iou = min_iou
        self.open: list[MergedCell] = []
        self.most_open = 0  # the largest number of open cells held at once

    def add(self, pieces: list[TileInstance]) -> None:
        """Add one tile's pieces, joining each to the open cells it belongs to."""
        for piece in pieces:
            joined = [
                cell
                for cell in self.open
                if any(same_cell(piece, other, self.min_iou) for other in cell.pieces)
            ]
            if not joined:
                self.open.append(MergedCell([piece]))
                continue
            target = joined[0]
            target.pieces.append(piece)
            for other in joined[1:]:
                target.pieces.extend(other.pieces)
                self.open.remove(other)
        self.most_open = max(self.most_open, len(self.open))

    def finish_row(self, row: int) -> list[MergedCell]:
        """The cells no tile of a later row can reach, once row `row` is added;
        after the last row, all of them. Ordered top to bottom, left to right."""
        limit = self.grid.row_top(row + 1)
        final = [cell for cell in self.open if cell.box[3] <= limit]
        if row + 1 >= self.grid.rows:
            final = list(self.open)
        self.open = [cell for cell in self.open if cell not in final]
        return sorted(final, key=lambda cell: (cell.box[1], cell.box[0]))

    def open_top(self) -> int | None:
        """The highest working row of any open cell."""
        return min((cell.box[1] for cell in self.open), default=None)
