"""Painting clusters of synthetic cells, each from its own exact outline.

A cell's pixels come from rasterising its outline (the polygon written to its
`.dat` file) and filling that mask with stained, textured density, so the
annotation and the picture agree to the pixel, before the final mild blur.
`draw_cluster_into` paints onto any canvas, which lets a large-slide generator
place many clusters on one big image; `draw_cluster_image` makes one picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from shapely.geometry import Polygon

from engine.synthetic.appearance import (
    Appearance,
    Variant,
    absorb,
    appearance,
    finish,
    new_background,
    polygon_mask,
    scatter_debris,
    smooth_noise,
)
from engine.synthetic.shapes import (
    CellOutline,
    cell_outline,
    morphology,
    round_vertices,
    rounded_outline,
)

# At the default 512x384 a superficial cell is about 130 pixels across, in the
# same proportion to the image as in SIPaKMeD's 2048x1536 cluster images.
PIXELS_PER_MICRON_AT_384 = 2.5


@dataclass
class SyntheticCell:
    """One painted cell: outlines in the pixels of the image it was painted on."""

    class_name: str
    cytoplasm: np.ndarray  # (n, 2) float, the whole cell, contains the nucleus
    nucleus: np.ndarray  # (m, 2) float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of the whole cell."""
        x_min, y_min = self.cytoplasm.min(axis=0)
        x_max, y_max = self.cytoplasm.max(axis=0)
        return float(x_min), float(y_min), float(x_max), float(y_max)


def default_pixels_per_micron(size: tuple[int, int]) -> float:
    """The magnification that gives an image of this size SIPaKMeD's proportions."""
    return PIXELS_PER_MICRON_AT_384 * min(size) / 384


def draw_cluster_image(
    rng: np.random.Generator,
    class_name: str,
    size: tuple[int, int] = (512, 384),
    *,
    cell_count: int | None = None,
    pixels_per_micron: float | None = None,
) -> tuple[np.ndarray, list[SyntheticCell]]:
    """A cluster image of one class: (RGB uint8 of shape (H, W, 3), its cells)."""
    width, height = size
    if width < 32 or height < 32:
        raise ValueError(f"a cluster image needs at least 32x32 pixels, not {size}")
    scale = pixels_per_micron or default_pixels_per_micron(size)
    canvas = new_background(rng, size, scale)
    area_um2 = width * height / scale**2
    inflamed = class_name in ("koilocytotic", "dyskeratotic")
    debris = int(rng.poisson(area_um2 / (2500 if inflamed else 6000)))
    scatter_debris(rng, canvas, scale, debris)
    cells = draw_cluster_into(
        canvas, rng, class_name, cell_count=cell_count, pixels_per_micron=scale
    )
    return finish(rng, canvas, scale), cells


def draw_cluster_into(
    canvas: np.ndarray,
    rng: np.random.Generator,
    class_name: str,
    origin_xy: tuple[int, int] = (0, 0),
    extent: tuple[int, int] | None = None,
    *,
    cell_count: int | None = None,
    pixels_per_micron: float | None = None,
) -> list[SyntheticCell]:
    """Paint a cluster of one class's cells into a region of `canvas`, in place.

    `canvas` is float32 RGB of shape (H, W, 3) in 0..255, such as
    `new_background(rng, size, pixels_per_micron)` returns; pass it to `finish`
    when every cluster is painted. The cells lie wholly inside the region
    `origin_xy` (left, top) and `extent` (width, height), which defaults to the
    rest of the canvas; their outlines are returned in canvas pixels.
    """
    if canvas.dtype != np.float32 or canvas.ndim != 3 or canvas.shape[2] != 3:
        raise TypeError("the canvas must be float32 RGB of shape (H, W, 3)")
    height, width = canvas.shape[:2]
    left, top = origin_xy
    if extent is None:
        extent = (width - left, height - top)
    region = (left, top, min(left + extent[0], width), min(top + extent[1], height))
    scale = pixels_per_micron or default_pixels_per_micron((width, height))
    shape = morphology(class_name)
    if cell_count is None:
        cell_count = int(
            rng.integers(shape.cells_per_image[0], shape.cells_per_image[1] + 1)
        )

    look = appearance(class_name)
    variants = [
        look.variants[int(rng.integers(len(look.variants)))] for _ in range(cell_count)
    ]
    placed = _place_cells(rng, class_name, region, scale, variants)
    cells = []
    for outline, variant in placed:
        _paint_cell(rng, canvas, outline, look, variant, scale)
        cells.append(SyntheticCell(class_name, outline.cytoplasm, outline.nucleus))
    return cells


def _place_cells(
    rng: np.random.Generator,
    class_name: str,
    region: tuple[int, int, int, int],
    pixels_per_micron: float,
    variants: list[Variant],
) -> list[tuple[CellOutline, Variant]]:
    """Cells in loose groups, each beside or over a neighbour, inside the region.

    A cell that finds no place where it overlaps its neighbours only as much as
    its class allows is left out, so a crowded region holds fewer cells.
    """
    shape = morphology(class_name)
    left, top, right, bottom = region
    region_size = min(right - left, bottom - top)
    # A region smaller than a cell gets smaller cells, not cells cut off.
    largest = shape.cell_diameter_um[1] * pixels_per_micron
    size_scale = float(np.clip(0.8 * region_size / largest, 0.05, 1.0))
    placed: list[tuple[CellOutline, Variant]] = []
    polygons: list[Polygon] = []
    nuclei: list[Polygon] = []
    for variant in variants:
        for attempt in range(48):
            if attempt % 12 == 0:
                # Now and then a fresh, smaller outline: it may fit where this did not.
                outline = cell_outline(
                    rng,
                    class_name,
                    (0.0, 0.0),
                    pixels_per_micron,
                    size_scale * (1 - attempt / 150),
                    variant.nucleus_scale,
                )
            if not placed or rng.random() < shape.new_group:
                # Groups start away from the image's edge, where a viewer looks.
                share = 0.25 if not placed else 0.1
                where = rng.uniform(
                    (left + share * (right - left), top + share * (bottom - top)),
                    (right - share * (right - left), bottom - share * (bottom - top)),
                )
            else:
                neighbour = placed[int(rng.integers(len(placed)))][0]
                angle = rng.uniform(0, 2 * math.pi)
                reach = rng.uniform(*shape.neighbour_distance)
                distance = reach * (neighbour.radius + outline.radius)
                where = neighbour.centre + distance * np.array(
                    [math.cos(angle), math.sin(angle)]
                )
            moved = _inside(_moved(outline, where - outline.centre), region)
            if moved is None:
                continue
            cell = Polygon(moved.cytoplasm)
            nucleus = Polygon(moved.nucleus)
            if _fits(cell, nucleus, polygons, nuclei, shape.max_overlap):
                placed.append((moved, variant))
                polygons.append(cell)
                nuclei.append(nucleus.buffer(1.0))
                break
    return placed


def _moved(outline: CellOutline, shift: np.ndarray) -> CellOutline:
    """The outline shifted by a multiple of the `.dat` files' precision."""
    shift = np.round(np.asarray(shift, dtype=np.float64), 1)
    return CellOutline(
        round_vertices(outline.cytoplasm + shift),
        round_vertices(outline.nucleus + shift),
        outline.centre + shift,
        outline.radius,
        outline.nucleus_radii,
    )


def _inside(
    outline: CellOutline, region: tuple[int, int, int, int]
) -> CellOutline | None:
    """The cell pushed wholly inside the region (a pixel from its edge), if it fits."""
    left, top, right, bottom = region
    low = np.array([left + 1.0, top + 1.0])
    high = np.array([right - 2.0, bottom - 2.0])
    minimum = outline.cytoplasm.min(axis=0)
    maximum = outline.cytoplasm.max(axis=0)
    if np.any(maximum - minimum > high - low):
        return None
    shift = np.maximum(low - minimum, 0) - np.maximum(maximum - high, 0)
    if not shift.any():
        return outline
    return _moved(outline, np.ceil(np.abs(shift) * 10) / 10 * np.sign(shift))


def _fits(
    cell: Polygon,
    nucleus: Polygon,
    cells: list[Polygon],
    nuclei: list[Polygon],
    max_overlap: float,
) -> bool:
    """Whether a new cell overlaps the others only as much as the class allows."""
    for other, other_nucleus in zip(cells, nuclei, strict=False):
        if nucleus.intersects(other_nucleus):
            return False
        shared = cell.intersection(other).area
        if shared > max_overlap * min(cell.area, other.area):
            return False
    return True


def _box(vertices: np.ndarray, canvas: np.ndarray, pad: int = 2):
    """The integer box (x0, y0, x1, y1) around an outline, inside the canvas."""
    height, width = canvas.shape[:2]
    x0 = max(int(math.floor(vertices[:, 0].min())) - pad, 0)
    y0 = max(int(math.floor(vertices[:, 1].min())) - pad, 0)
    x1 = min(int(math.ceil(vertices[:, 0].max())) + pad + 1, width)
    y1 = min(int(math.ceil(vertices[:, 1].max())) + pad + 1, height)
    return x0, y0, x1, y1


def _paint_cell(
    rng: np.random.Generator,
    canvas: np.ndarray,
    outline: CellOutline,
    look: Appearance,
    variant: Variant,
    pixels_per_micron: float,
) -> None:
    """Stain the cytoplasm, then the nucleus, of one cell into the canvas."""
    x0, y0, x1, y1 = _box(outline.cytoplasm, canvas)
    box_shape = (y1 - y0, x1 - x0)
    mask = polygon_mask(outline.cytoplasm, (x0, y0), box_shape)
    stain = variant.cytoplasm

    # Mottled cytoplasm: broad patches of thicker and thinner cytoplasm plus grain.
    patches = smooth_noise(rng, box_shape, max(outline.radius / 5, 1.5))
    grain = smooth_noise(rng, box_shape, 0.25 * pixels_per_micron)
    density = rng.uniform(*stain.density) * (
        1 + look.cytoplasm_texture * (patches + 0.8 * grain)
    )
    # Thin cells curl at the edge, so the rim takes up more stain; more on the
    # side where it curls over.
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    rim_width = max(1.2, 0.6 * pixels_per_micron) * (
        1 + 0.6 * np.clip(smooth_noise(rng, box_shape, outline.radius / 2), 0, None)
    )
    density += look.edge_density * np.exp(-inside / rim_width)
    if look.granules:
        specks = smooth_noise(rng, box_shape, 0.3 * pixels_per_micron)
        density += look.granules * np.clip(specks - 2.0, 0, None)
    if rng.random() < look.folds:
        density += 1.6 * _fold(rng, outline, (x0, y0), box_shape, pixels_per_micron)
    if look.halo:
        density = _perinuclear_halo(rng, density, outline, (x0, y0), box_shape, inside)
    absorb(canvas, (x0, y0), stain.transmission, np.clip(density, 0, None) * mask)

    _paint_nucleus(rng, canvas, outline.nucleus, variant, pixels_per_micron)
    if rng.random() < look.second_nucleus:
        # Binucleate koilocytes are common; SIPaKMeD outlines only one nucleus.
        second = _second_nucleus(rng, outline)
        if second is not None:
            _paint_nucleus(rng, canvas, second, variant, pixels_per_micron)


def _fold(
    rng: np.random.Generator,
    outline: CellOutline,
    top_left: tuple[int, int],
    box_shape: tuple[int, int],
    pixels_per_micron: float,
) -> np.ndarray:
    """A soft dark line where a thin cell folded over on itself."""
    vertices = outline.cytoplasm - np.asarray(top_left)
    count = len(vertices)
    start = int(rng.integers(count))
    end = (start + int(rng.integers(count // 4, count // 2 + 1))) % count
    middle = (vertices[start] + vertices[end]) / 2
    bend = (outline.centre - np.asarray(top_left) - middle) * rng.uniform(-0.5, 0.5)
    t = np.linspace(0, 1, 24)[:, None]
    control = middle + bend
    curve = (
        (1 - t) ** 2 * vertices[start]
        + 2 * (1 - t) * t * control
        + t**2 * vertices[end]
    )
    fold = np.zeros(box_shape, dtype=np.float32)
    thickness = max(1, int(round(0.4 * pixels_per_micron)))
    cv2.polylines(fold, [np.round(curve).astype(np.int32)], False, 1.0, thickness)
    return cv2.GaussianBlur(fold, (0, 0), 0.5 * pixels_per_micron)


def _perinuclear_halo(
    rng: np.random.Generator,
    density: np.ndarray,
    outline: CellOutline,
    top_left: tuple[int, int],
    box_shape: tuple[int, int],
    inside: np.ndarray,
) -> np.ndarray:
    """A koilocyte's clear cavity around the nucleus, sharply bordered."""
    nucleus_centre = outline.nucleus.mean(axis=0)
    factor = rng.uniform(1.6, 2.2)
    radii = (outline.nucleus_radii[0] * factor, outline.nucleus_radii[1] * factor)
    # The cavity is often eccentric and angular, not a ring around the nucleus.
    off_centre = rng.normal(0, 0.25, 2) * np.asarray(outline.nucleus_radii)
    halo = rounded_outline(rng, nucleus_centre + off_centre, radii, 40, 0.18, 0, 7)
    halo_mask = polygon_mask(halo, top_left, box_shape)
    # Keep a dense rim of cytoplasm between the cavity and the cell's edge.
    rim = max(2.0, 0.18 * outline.radius)
    halo_mask *= (inside > rim).astype(np.float32)
    soft = cv2.GaussianBlur(halo_mask, (0, 0), 0.8)
    border = np.clip(soft * (1 - soft) * 4, 0, 1)
    return density * (1 - 0.75 * soft) + 0.4 * border + 0.2 * (1 - soft)


def _second_nucleus(
    rng: np.random.Generator, outline: CellOutline
) -> np.ndarray | None:
    """A second nucleus beside the first, if it fits inside the cell."""
    centre = outline.nucleus.mean(axis=0)
    angle = rng.uniform(0, 2 * math.pi)
    distance = 1.7 * max(outline.nucleus_radii)
    where = centre + distance * np.array([math.cos(angle), math.sin(angle)])
    radii = (outline.nucleus_radii[0] * 0.85, outline.nucleus_radii[1] * 0.85)
    second = rounded_outline(rng, where, radii, 28, 0.1)
    if not Polygon(outline.cytoplasm).buffer(-2).contains(Polygon(second)):
        return None
    return second


def _paint_nucleus(
    rng: np.random.Generator,
    canvas: np.ndarray,
    nucleus: np.ndarray,
    variant: Variant,
    pixels_per_micron: float,
) -> None:
    """A nucleus with granular chromatin and a darker nuclear membrane."""
    x0, y0, x1, y1 = _box(nucleus, canvas)
    box_shape = (y1 - y0, x1 - x0)
    mask = polygon_mask(nucleus, (x0, y0), box_shape)
    chromatin = smooth_noise(rng, box_shape, 0.3 * pixels_per_micron)
    clumps = smooth_noise(rng, box_shape, 0.2 * pixels_per_micron)
    clumps = np.clip(clumps - 1.0, 0, None)
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    membrane = np.exp(-inside / max(1.0, 0.4 * pixels_per_micron))
    strength = variant.chromatin
    density = (
        rng.uniform(*variant.nucleus.density)
        * (1 + strength * chromatin + 1.5 * strength * clumps)
        + 0.5 * strength * membrane
    )
    density = np.clip(density, 0.3, None) * mask
    absorb(canvas, (x0, y0), variant.nucleus.transmission, density)
