"""Paint any tile of a synthetic Pap-smear slide, the same whichever is asked first.

The slide is divided into a grid of squares; each square may hold up to two
clusters of cells (drawn by `engine.synthetic`) and some debris, all from a
random generator seeded by the slide's seed and the square's place. Light passes
through a smear, so every stained thing multiplies the light behind it: a
square's cells are painted once as a transmission map, and a tile is its
background times the maps of the squares it overlaps. The background comes
from smooth random fields defined over the whole slide, so tiles meet
without seams.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.images.slide_background import (
    Patch,
    PeriodicField,
    debris_patch,
    debris_radius,
)
from engine.synthetic import SyntheticCell, draw_cluster_into
from engine.synthetic.appearance import BACKGROUND_RGB

log = logging.getLogger(__name__)

# How often each class's clusters occur: mostly normal cells, as on a real smear.
CLASS_WEIGHTS = {
    "superficial-intermediate": 0.4,
    "parabasal": 0.15,
    "metaplastic": 0.2,
    "koilocytotic": 0.13,
    "dyskeratotic": 0.12,
}
WISP_RGB = (0.85, 0.88, 0.95)  # faint mucus strands catch a little haematoxylin
NOISE_POOL_SIDE = 1024
MIN_CLUSTER_SIDE = 128  # a smaller region would squeeze the cells
SQUARE_BYTES_GUESS = 1 << 20  # a square with a cluster holds about this much


@dataclass(frozen=True)
class SlideRecipe:
    """Everything that decides what a synthetic slide looks like."""

    width: int
    height: int
    seed: int = 0
    microns_per_pixel: float = 0.25
    square_size: int = 768  # pixels of level 0
    # Chances of no, one and two clusters in a square: uneven, like a smear.
    clusters_per_square: tuple[float, float, float] = (0.3, 0.5, 0.2)
    debris_per_square: float = 6.0

    @property
    def pixels_per_micron(self) -> float:
        return 1.0 / self.microns_per_pixel

    @property
    def margin(self) -> int:
        """How far a square's content may reach past its border, in pixels.

        Debris and the blurred edges of cells near the border are painted
        whole, so the maps of neighbouring squares overlap by this much.
        """
        return max(debris_radius(self.pixels_per_micron), 8) + 8

    @property
    def grid(self) -> tuple[int, int]:
        """(columns, rows) of squares."""
        return (
            math.ceil(self.width / self.square_size),
            math.ceil(self.height / self.square_size),
        )


@dataclass
class Square:
    """What one grid square holds: painted patches and the true cells."""

    patches: list[Patch] = field(default_factory=list)
    cells: list[SyntheticCell] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return sum(patch.transmission.nbytes for patch in self.patches) + 1024


class SlidePainter:
    """Paints tiles of a synthetic slide and knows the true cells of each square."""

    def __init__(self, recipe: SlideRecipe, cache_bytes: int | None = None):
        self.recipe = recipe
        rng = np.random.default_rng([recipe.seed, 0])
        ppm = recipe.pixels_per_micron
        self.base_rgb = (np.asarray(BACKGROUND_RGB) + rng.uniform(-4, 4, 3)).astype(
            np.float32
        )
        # Periods of different lengths, so their product hardly ever repeats.
        self.unevenness = PeriodicField(rng, 16384, 300 * ppm, 64)
        self.wisps = PeriodicField(rng, 3000, 3 * ppm, 4)
        self.wisp_patches = PeriodicField(rng, 8192, 60 * ppm, 32)
        self._wisp_log = 0.12 * np.log(np.asarray(WISP_RGB, np.float32))
        # Camera noise repeats from a pool: drawing fresh noise for every tile
        # would cost more than painting the tile.
        self.noise = rng.normal(0, 1.6, (3, NOISE_POOL_SIDE, NOISE_POOL_SIDE)).astype(
            np.float32
        )
        if cache_bytes is None:
            # Tiles are painted row by row and a square spans two or three
            # rows of tiles, so two rows of squares must stay painted.
            columns = recipe.grid[0]
            cache_bytes = max(32 << 20, 2 * columns * SQUARE_BYTES_GUESS)
        self._cache_bytes = cache_bytes
        # The cells of each painted square wait here until `take_cells`, so
        # that they outlive the square's pixels in the cache.
        self._unclaimed_cells: dict[tuple[int, int], list[SyntheticCell]] = {}
        self._claimed: set[tuple[int, int]] = set()
        self._squares: OrderedDict[tuple[int, int], Square] = OrderedDict()
        self._cached_bytes = 0
        self._pending: dict[tuple[int, int], Future] = {}
        self._lock = threading.Lock()

    def square(self, column: int, row: int) -> Square:
        """The content of one grid square, painted on first use and kept a while.

        Safe to call from several threads; a square asked for by two threads
        at once is painted once.
        """
        key = (column, row)
        with self._lock:
            square = self._squares.get(key)
            if square is not None:
                self._squares.move_to_end(key)
                return square
            pending = self._pending.get(key)
            painting_here = pending is None
            if painting_here:
                pending = self._pending[key] = Future()
        if not painting_here:
            return pending.result()
        try:
            square = self._paint_square(column, row)
        except BaseException as error:
            pending.set_exception(error)
            raise
        finally:
            with self._lock:
                del self._pending[key]
        with self._lock:
            if key not in self._claimed:
                self._unclaimed_cells[key] = square.cells
            self._squares[key] = square
            self._cached_bytes += square.nbytes
            while self._cached_bytes > self._cache_bytes and len(self._squares) > 1:
                _, evicted = self._squares.popitem(last=False)
                self._cached_bytes -= evicted.nbytes
        pending.set_result(square)
        return square

    def take_cells(self, column: int, row: int) -> list[SyntheticCell]:
        """The true cells of a square, in slide pixels; each square's only once."""
        key = (column, row)
        with self._lock:
            self._claimed.add(key)
            cells = self._unclaimed_cells.pop(key, None)
        if cells is None:
            cells = self.square(column, row).cells
        return cells

    def paint_tile(
        self, x: int, y: int, width: int, height: int, *, camera_noise: bool = True
    ) -> np.ndarray:
        """The slide's pixels in a region of level 0, RGB uint8 (height, width, 3).

        Camera noise is drawn per region; without it, overlapping regions agree
        pixel for pixel wherever they are cut.

        The colour planes are painted apart, (3, height, width), because numpy
        is many times faster on contiguous planes than on interleaved pixels.
        """
        canvas = self._background(x, y, width, height)
        for column, row in self._squares_over(x, y, width, height):
            for patch in self.square(column, row).patches:
                _multiply_patch(canvas, x, y, patch)
        if camera_noise:
            self._add_noise(canvas, x, y)
        np.clip(canvas, 0, 255, out=canvas)
        planes = np.rint(canvas, out=canvas).astype(np.uint8)
        return cv2.merge(list(planes))

    def _add_noise(self, canvas: np.ndarray, x: int, y: int) -> None:
        rng = np.random.default_rng([self.recipe.seed, 2, x, y])
        half = NOISE_POOL_SIDE // 2
        for top in range(0, canvas.shape[1], half):
            for left in range(0, canvas.shape[2], half):
                part = canvas[:, top : top + half, left : left + half]
                noise_y, noise_x = rng.integers(0, half, 2)
                part += self.noise[
                    :,
                    noise_y : noise_y + part.shape[1],
                    noise_x : noise_x + part.shape[2],
                ]

    def _background(self, x: int, y: int, width: int, height: int) -> np.ndarray:
        """Light glass, unevenly lit, with faint mucus wisps; float32 RGB."""
        light = self.unevenness.values(x, y, width, height)
        light *= np.float32(0.025)
        light += np.float32(1.0)
        wisp = np.clip(self.wisps.values(x, y, width, height), 0, None)
        wisp *= np.clip(self.wisp_patches.values(x, y, width, height), 0, None)
        canvas = np.empty((3, height, width), dtype=np.float32)
        for channel in range(3):
            # transmission ** density, as exp(density * log(transmission)).
            np.multiply(wisp, self._wisp_log[channel], out=canvas[channel])
            np.exp(canvas[channel], out=canvas[channel])
            canvas[channel] *= light
            canvas[channel] *= self.base_rgb[channel]
        return canvas

    def _squares_over(self, x: int, y: int, width: int, height: int):
        size, margin = self.recipe.square_size, self.recipe.margin
        columns, rows = self.recipe.grid
        first_column = max((x - margin) // size, 0)
        last_column = min((x + width + margin) // size, columns - 1)
        first_row = max((y - margin) // size, 0)
        last_row = min((y + height + margin) // size, rows - 1)
        for row in range(first_row, last_row + 1):
            for column in range(first_column, last_column + 1):
                yield column, row

    def _paint_square(self, column: int, row: int) -> Square:
        recipe = self.recipe
        rng = np.random.default_rng([recipe.seed, 1, column, row])
        size = recipe.square_size
        left, top = column * size, row * size
        # The part of the square on the slide: cells must lie on the slide.
        inner_width = min(size, recipe.width - left)
        inner_height = min(size, recipe.height - top)
        square = Square()
        for region in _cluster_regions(
            rng, recipe.clusters_per_square, inner_width, inner_height
        ):
            region_left, region_top, region_width, region_height = region
            self._paint_cluster(
                rng,
                square,
                left + region_left,
                top + region_top,
                region_width,
                region_height,
            )
        debris = rng.poisson(
            recipe.debris_per_square * inner_width * inner_height / size**2
        )
        for _ in range(int(debris)):
            centre = (
                left + rng.uniform(0, inner_width),
                top + rng.uniform(0, inner_height),
            )
            square.patches.append(debris_patch(rng, centre, recipe.pixels_per_micron))
        return square

    def _paint_cluster(
        self,
        rng: np.random.Generator,
        square: Square,
        left: int,
        top: int,
        inner_width: int,
        inner_height: int,
    ) -> None:
        class_name = str(
            rng.choice(list(CLASS_WEIGHTS), p=list(CLASS_WEIGHTS.values()))
        )
        extent_width = int(rng.uniform(0.75, 1.0) * inner_width)
        extent_height = int(rng.uniform(0.75, 1.0) * inner_height)
        offset_x = left + int(rng.integers(0, inner_width - extent_width + 1))
        offset_y = top + int(rng.integers(0, inner_height - extent_height + 1))
        margin = self.recipe.margin
        # A white canvas: after painting, each pixel / 255 is the share of
        # light the cells let through there.
        canvas = np.full(
            (extent_height + 2 * margin, extent_width + 2 * margin, 3),
            255.0,
            dtype=np.float32,
        )
        cell_count = int(rng.integers(1, 3)) if rng.random() < 0.25 else None
        cells = draw_cluster_into(
            canvas,
            rng,
            class_name,
            (margin, margin),
            (extent_width, extent_height),
            cell_count=cell_count,
            pixels_per_micron=self.recipe.pixels_per_micron,
        )
        if not cells:
            return
        # The optics blur everything a little, as engine.synthetic's finish does.
        sigma = max(0.55, 0.3 * self.recipe.pixels_per_micron)
        canvas = cv2.GaussianBlur(canvas, (0, 0), sigma)
        red, green, blue = cv2.split(canvas)
        stained = np.nonzero(np.minimum(np.minimum(red, green), blue) < 254.5)
        y0, y1 = int(stained[0].min()), int(stained[0].max()) + 1
        x0, x1 = int(stained[1].min()), int(stained[1].max()) + 1
        origin = np.array([offset_x - margin, offset_y - margin], dtype=np.float64)
        square.patches.append(
            Patch(
                int(origin[0]) + x0,
                int(origin[1]) + y0,
                np.rint(canvas[y0:y1, x0:x1])
                .astype(np.uint8)
                .transpose(2, 0, 1)
                .copy(),
            )
        )
        for cell in cells:
            square.cells.append(
                SyntheticCell(
                    cell.class_name,
                    np.round(cell.cytoplasm + origin, 2),
                    np.round(cell.nucleus + origin, 2),
                )
            )


def _cluster_regions(
    rng: np.random.Generator,
    chances: tuple[float, ...],
    width: int,
    height: int,
) -> list[tuple[int, int, int, int]]:
    """Where a square's clusters go: (left, top, width, height) inside the square.

    Two clusters share the square along a random cut, so that they never
    overlap and the squares do not line up into a visible grid.
    """
    count = int(rng.choice(len(chances), p=chances))
    if count == 0 or min(width, height) < MIN_CLUSTER_SIDE:
        return []
    if count == 1:
        return [(0, 0, width, height)]
    cut = rng.uniform(0.35, 0.65)
    if rng.random() < 0.5 and width >= 2 * MIN_CLUSTER_SIDE:
        first = int(width * cut)
        return [(0, 0, first, height), (first, 0, width - first, height)]
    if height >= 2 * MIN_CLUSTER_SIDE:
        first = int(height * cut)
        return [(0, 0, width, first), (0, first, width, height - first)]
    return [(0, 0, width, height)]


def _multiply_patch(canvas: np.ndarray, x: int, y: int, patch: Patch) -> None:
    """Let the tile's light through a patch, where the two overlap."""
    height, width = canvas.shape[1:]
    patch_height, patch_width = patch.transmission.shape[1:]
    left, top = max(patch.x, x), max(patch.y, y)
    right = min(patch.x + patch_width, x + width)
    bottom = min(patch.y + patch_height, y + height)
    if left >= right or top >= bottom:
        return
    share = patch.transmission[
        :, top - patch.y : bottom - patch.y, left - patch.x : right - patch.x
    ].astype(np.float32)
    share *= np.float32(1 / 255)
    canvas[:, top - y : bottom - y, left - x : right - x] *= share
