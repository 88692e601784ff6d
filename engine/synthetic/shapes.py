"""Outlines of synthetic cells and nuclei: size and shape per class, as polygons.

Every outline is star-shaped around its centre (vertices in angular order at
positive radii), so it is a simple polygon by construction; the vertices are
rounded to a tenth of a pixel, the precision the `.dat` files are written in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon

# The .dat files hold one decimal; outlines are checked in that precision.
DECIMALS = 1


@dataclass(frozen=True)
class Morphology:
    """How the cells of one class are built: sizes in micrometres, shape, clustering."""

    cell_diameter_um: tuple[float, float]
    cell_aspect: tuple[float, float]  # minor over major axis
    nucleus_diameter_um: tuple[float, float]
    nucleus_aspect: tuple[float, float]
    corners: tuple[int, int] | None  # angular outline with this many corners
    roughness: float  # amplitude of slow wobbles of the outline
    processes: tuple[int, int]  # cytoplasmic processes (metaplastic cells)
    nucleus_irregularity: float
    nucleus_offset: float  # how far off-centre a nucleus sits, share of the radius
    cells_per_image: tuple[int, int]
    neighbour_distance: tuple[float, float]  # centre to a neighbour's, in radii sums
    new_group: float  # chance that a cell starts a group of its own
    max_overlap: float  # largest share of a cell that another may cover
    nucleus_harmonics: int = 5  # more: a wrinkled nuclear outline


MORPHOLOGY = {
    # Large flat polygonal cells with small pyknotic or vesicular nuclei.
    "superficial-intermediate": Morphology(
        cell_diameter_um=(40.0, 56.0),
        cell_aspect=(0.7, 0.95),
        nucleus_diameter_um=(5.0, 7.5),
        nucleus_aspect=(0.75, 0.95),
        corners=(5, 8),
        roughness=0.03,
        processes=(0, 0),
        nucleus_irregularity=0.03,
        nucleus_offset=0.25,
        cells_per_image=(5, 8),
        neighbour_distance=(0.6, 1.05),
        new_group=0.15,
        max_overlap=0.35,
    ),
    # Small round immature cells: a high nucleus-to-cytoplasm ratio.
    "parabasal": Morphology(
        cell_diameter_um=(16.0, 24.0),
        cell_aspect=(0.75, 0.95),
        nucleus_diameter_um=(7.5, 10.0),
        nucleus_aspect=(0.8, 0.97),
        corners=None,
        roughness=0.04,
        processes=(0, 0),
        nucleus_irregularity=0.03,
        nucleus_offset=0.15,
        cells_per_image=(7, 10),
        neighbour_distance=(0.75, 1.3),
        new_group=0.3,
        max_overlap=0.25,
    ),
    # Between parabasal and intermediate, with processes where cells pulled apart.
    "metaplastic": Morphology(
        cell_diameter_um=(22.0, 32.0),
        cell_aspect=(0.7, 0.92),
        nucleus_diameter_um=(7.0, 9.5),
        nucleus_aspect=(0.75, 0.95),
        corners=None,
        roughness=0.07,
        processes=(1, 3),
        nucleus_irregularity=0.04,
        nucleus_offset=0.2,
        cells_per_image=(5, 9),
        neighbour_distance=(0.7, 1.25),
        new_group=0.3,
        max_overlap=0.25,
    ),
    # Intermediate-sized cells with an enlarged, wrinkled (raisinoid) nucleus.
    "koilocytotic": Morphology(
        cell_diameter_um=(34.0, 48.0),
        cell_aspect=(0.72, 0.95),
        nucleus_diameter_um=(9.0, 13.0),
        nucleus_aspect=(0.65, 0.9),
        corners=(5, 7),
        roughness=0.04,
        processes=(0, 0),
        nucleus_irregularity=0.1,
        nucleus_offset=0.12,
        cells_per_image=(4, 8),
        neighbour_distance=(0.7, 1.2),
        new_group=0.3,
        max_overlap=0.25,
        nucleus_harmonics=9,
    ),
    # Small keratinised cells, often in tight three-dimensional groups.
    "dyskeratotic": Morphology(
        cell_diameter_um=(11.0, 18.0),
        cell_aspect=(0.55, 0.9),
        nucleus_diameter_um=(3.5, 6.0),
        nucleus_aspect=(0.7, 0.95),
        corners=None,
        roughness=0.06,
        processes=(0, 0),
        nucleus_irregularity=0.05,
        nucleus_offset=0.2,
        cells_per_image=(7, 10),
        neighbour_distance=(0.5, 0.95),
        new_group=0.1,
        max_overlap=0.45,
    ),
}


def morphology(class_name: str) -> Morphology:
    """The morphology of a SIPaKMeD class; KeyError names the known classes."""
    try:
        return MORPHOLOGY[class_name]
    except KeyError:
        known = ", ".join(MORPHOLOGY)
        raise KeyError(
            f"no synthetic cells for class {class_name!r}; use {known}"
        ) from None


def round_vertices(vertices: np.ndarray) -> np.ndarray:
    """Vertices as the `.dat` file will hold them."""
    return np.round(np.asarray(vertices, dtype=np.float64), DECIMALS)


def _wobble(
    rng: np.random.Generator, angles: np.ndarray, amplitude: float, harmonics: int = 5
) -> np.ndarray:
    """A smooth periodic factor near 1: low harmonics with random phases."""
    factor = np.ones_like(angles)
    for harmonic in range(2, harmonics + 1):
        weight = amplitude * rng.uniform(0.3, 1.0) / (harmonic - 1) ** 0.8
        factor += weight * np.cos(harmonic * angles + rng.uniform(0, 2 * math.pi))
    return factor


def _processes(rng: np.random.Generator, angles: np.ndarray, count: int) -> np.ndarray:
    """Extra radius where the cytoplasm is drawn out into tapering processes."""
    extra = np.zeros_like(angles)
    for _ in range(count):
        where = rng.uniform(0, 2 * math.pi)
        width = rng.uniform(0.12, 0.25)
        length = rng.uniform(0.25, 0.6)
        distance = np.angle(np.exp(1j * (angles - where)))
        extra += length * np.exp(-((distance / width) ** 2))
    return extra


def _angles(rng: np.random.Generator, count: int) -> np.ndarray:
    step = 2 * math.pi / count
    return np.arange(count) * step + rng.uniform(-0.25, 0.25, count) * step


def _place(
    unit: np.ndarray, radii: tuple[float, float], rotation: float, centre
) -> np.ndarray:
    """Stretch a unit outline to its radii, rotate it and move it to `centre`."""
    scaled = unit * np.asarray(radii)
    cos, sin = math.cos(rotation), math.sin(rotation)
    rotated = scaled @ np.array([[cos, sin], [-sin, cos]])
    return rotated + np.asarray(centre, dtype=np.float64)


def rounded_outline(
    rng: np.random.Generator,
    centre,
    radii: tuple[float, float],
    vertex_count: int,
    roughness: float,
    process_count: int = 0,
    harmonics: int = 5,
) -> np.ndarray:
    """A round or oval outline with wobbles and optional processes.

    More `harmonics` make a wrinkled outline, like a koilocyte's raisin-like nucleus.
    """
    angles = _angles(rng, vertex_count)
    radius = _wobble(rng, angles, roughness, harmonics)
    radius = radius + _processes(rng, angles, process_count)
    radius = np.maximum(radius, 0.5)
    unit = np.column_stack([np.cos(angles), np.sin(angles)]) * radius[:, None]
    return _place(unit, radii, rng.uniform(0, math.pi), centre)


def angular_outline(
    rng: np.random.Generator,
    centre,
    radii: tuple[float, float],
    vertex_count: int,
    corner_count: int,
    roughness: float,
) -> np.ndarray:
    """A flat polygonal outline: straight-ish edges between a few corners."""
    corner_angles = np.sort(_angles(rng, corner_count) % (2 * math.pi))
    corner_radii = rng.uniform(0.78, 1.15, corner_count)
    corners = (
        np.column_stack([np.cos(corner_angles), np.sin(corner_angles)])
        * corner_radii[:, None]
    )
    following = np.roll(corners, -1, axis=0)
    lengths = np.linalg.norm(following - corners, axis=1)
    shares = np.maximum(2, np.round(lengths / lengths.sum() * vertex_count)).astype(int)
    points = []
    for start, end, share in zip(corners, following, shares, strict=True):
        steps = np.arange(share) + rng.uniform(0.0, 0.3, share) * (np.arange(share) > 0)
        along = steps / share
        # Edges bow a little in or out, as flat cells are rarely ruled straight.
        bow = rng.uniform(-0.06, 0.05) * np.sin(math.pi * along)
        normal = np.array([end[1] - start[1], start[0] - end[0]])
        normal /= max(np.linalg.norm(normal), 1e-9)
        for t, b in zip(along, bow, strict=True):
            points.append(start + (end - start) * t - normal * b)
    unit = np.array(points)
    angles = np.arctan2(unit[:, 1], unit[:, 0])
    unit = unit * _wobble(rng, angles, roughness, 9)[:, None]
    return _place(unit, radii, rng.uniform(0, math.pi), centre)


def is_valid_outline(vertices: np.ndarray) -> bool:
    polygon = Polygon(vertices)
    return polygon.is_valid and polygon.area > 1.0


@dataclass
class CellOutline:
    """A cell's outline and its nucleus's, in image pixels, rounded for `.dat`."""

    cytoplasm: np.ndarray
    nucleus: np.ndarray
    centre: np.ndarray
    radius: float  # mean radius of the cell, pixels
    nucleus_radii: tuple[float, float]


def cell_outline(
    rng: np.random.Generator,
    class_name: str,
    centre,
    pixels_per_micron: float,
    size_scale: float = 1.0,
    nucleus_scale: float = 1.0,
) -> CellOutline:
    """Draw a new cell's outline and nucleus for a class, centred near `centre`.

    `size_scale` shrinks the whole cell (to fit a small region); `nucleus_scale`
    only the nucleus (a superficial cell's pyknotic nucleus against an
    intermediate cell's vesicular one).
    """
    shape = morphology(class_name)
    centre = np.asarray(centre, dtype=np.float64)
    diameter = rng.uniform(*shape.cell_diameter_um) * pixels_per_micron * size_scale
    aspect = rng.uniform(*shape.cell_aspect)
    radii = (diameter / 2, diameter / 2 * aspect)
    radius = diameter / 2 * math.sqrt(aspect)
    vertex_count = int(np.clip(round(14 + radius * 0.55), 24, 72))

    for _ in range(20):
        if shape.corners is not None:
            corner_count = int(rng.integers(shape.corners[0], shape.corners[1] + 1))
            cytoplasm = angular_outline(
                rng, centre, radii, vertex_count, corner_count, shape.roughness
            )
        else:
            process_count = int(
                rng.integers(shape.processes[0], shape.processes[1] + 1)
            )
            cytoplasm = rounded_outline(
                rng, centre, radii, vertex_count, shape.roughness, process_count
            )
        cytoplasm = round_vertices(cytoplasm)
        if is_valid_outline(cytoplasm):
            break
    else:
        raise RuntimeError(f"could not draw a valid {class_name} outline")

    nucleus, nucleus_radii = _nucleus_inside(
        rng,
        shape,
        Polygon(cytoplasm),
        centre,
        radius,
        pixels_per_micron * size_scale * nucleus_scale,
    )
    return CellOutline(cytoplasm, nucleus, centre, radius, nucleus_radii)


def _nucleus_inside(
    rng: np.random.Generator,
    shape: Morphology,
    cell: Polygon,
    centre: np.ndarray,
    cell_radius: float,
    pixels_per_micron: float,
) -> tuple[np.ndarray, tuple[float, float]]:
    """A nucleus that lies wholly inside the cell with a little cytoplasm around."""
    diameter = rng.uniform(*shape.nucleus_diameter_um) * pixels_per_micron
    diameter = min(diameter, cell_radius * 1.3)
    aspect = rng.uniform(*shape.nucleus_aspect)
    # Even a small nucleus keeps a few pixels, unless its cell is tiny too.
    smallest = min(2.5, 0.3 * cell_radius)
    radii = (max(diameter / 2, smallest), max(diameter / 2 * aspect, smallest))
    vertex_count = int(np.clip(round(16 + max(radii) * 0.9), 20, 40))
    inner = cell.buffer(-min(max(1.5, 0.06 * cell_radius), 0.3 * cell_radius))
    offset = shape.nucleus_offset
    for _attempt in range(30):
        direction = rng.uniform(0, 2 * math.pi)
        distance = rng.uniform(0, offset) * cell_radius
        where = centre + distance * np.array([math.cos(direction), math.sin(direction)])
        nucleus = round_vertices(
            rounded_outline(
                rng,
                where,
                radii,
                vertex_count,
                shape.nucleus_irregularity,
                harmonics=shape.nucleus_harmonics,
            )
        )
        if is_valid_outline(nucleus) and inner.contains(Polygon(nucleus)):
            return nucleus, radii
        # Start closer to the centre and smaller after each miss.
        offset *= 0.8
        radii = (radii[0] * 0.95, radii[1] * 0.95)
    raise RuntimeError("could not fit a nucleus inside its cell")
