"""Per-cell morphometry: area, perimeter, nucleus size, N/C ratio, circularity,
and the mean grey value of the nucleus, as a cytotechnologist reads them.

Definitions, all from the outlines as drawn (pixel coordinates, y down):

- area: the cell's whole outline (which contains the nucleus), by shapely.
- perimeter: the length of the cell's outline.
- nucleus area: the area of the nucleus outline.
- N/C ratio: nucleus area / cytoplasm area, where the cytoplasm area is the cell
  area minus the nucleus area. It is None without a nucleus, and None when the
  nucleus covers the whole cell (no cytoplasm left to divide by).
- circularity: 4πA/P² of the cell outline; 1 for a circle, smaller when ragged.
- mean nuclear intensity: the mean grey value (0-255 for 8-bit images) of the
  image pixels inside the nucleus outline, rasterised with cv2.fillPoly; None
  without an image or without a nucleus.

With `microns_per_pixel`, areas are in µm² and lengths in µm; ratios, circularity
and intensity have no unit.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import shapely
from shapely.geometry import Polygon

from engine.annotations.cells import Cell, ImageRecord

log = logging.getLogger(__name__)

SUBPIXEL_BITS = 4  # vertices are rasterised at 1/16 pixel


@dataclass(frozen=True)
class CellMeasurements:
    """The measurements of one cell, in pixels or, when a pixel size is given, µm."""

    cell_index: int
    class_name: str
    area: float
    perimeter: float
    nucleus_area: float | None
    nc_ratio: float | None
    circularity: float
    mean_nuclear_intensity: float | None
    microns_per_pixel: float | None = None
    image_key: str | None = None

    @property
    def area_unit(self) -> str:
        return "um2" if self.microns_per_pixel else "px2"

    @property
    def length_unit(self) -> str:
        return "um" if self.microns_per_pixel else "px"


def outline_polygon(vertices: np.ndarray) -> shapely.Geometry:
    """A shapely polygon of an outline, repaired when the outline crosses itself."""
    polygon = Polygon(np.asarray(vertices, dtype=np.float64))
    if polygon.is_valid:
        return polygon
    # A model or a hasty edit can leave a self-crossing outline; its repaired
    # shape gives a meaningful area where the raw ring would not.
    return shapely.make_valid(polygon)


def grey_of(image: np.ndarray) -> np.ndarray:
    """The grey image of an RGB, RGBA or already grey array (cv2's luma weights)."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    raise ValueError(f"expected a grey, RGB or RGBA image, got shape {image.shape}")


def read_rgb(path: Path) -> np.ndarray | None:
    """An image file as an RGB array, or None when OpenCV cannot decode it."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        log.warning("Cannot read image %r: %s", str(path), error.strerror)
        return None
    # imdecode instead of imread: imread fails on non-ASCII paths on Windows.
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        log.warning("OpenCV cannot decode image %r", str(path))
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def fill_polygon(canvas: np.ndarray, vertices: np.ndarray, value: int) -> None:
    """Paint the pixels inside an outline with `value`, in place (cv2.fillPoly)."""
    # Fixed-point vertices keep decimal outlines' sub-pixel position instead of
    # rounding every vertex to a whole pixel.
    scale = 1 << SUBPIXEL_BITS
    points = np.round(np.asarray(vertices, dtype=np.float64) * scale).astype(np.int32)
    cv2.fillPoly(canvas, [points.reshape(-1, 1, 2)], int(value), shift=SUBPIXEL_BITS)


def polygon_pixels(grey: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """The grey values of the pixels inside an outline (empty when none are)."""
    height, width = grey.shape[:2]
    vertices = np.asarray(vertices, dtype=np.float64)
    x_min, y_min = np.clip(np.floor(vertices.min(axis=0)), 0, [width, height])
    x_max, y_max = np.clip(np.ceil(vertices.max(axis=0)) + 1, 0, [width, height])
    x_min, y_min, x_max, y_max = int(x_min), int(y_min), int(x_max), int(y_max)
    if x_max <= x_min or y_max <= y_min:
        return np.empty(0, dtype=grey.dtype)
    # Rasterise only the outline's bounding box: a nucleus is tiny next to a
    # 2048x1536 cluster image.
    mask = np.zeros((y_max - y_min, x_max - x_min), dtype=np.uint8)
    fill_polygon(mask, vertices - [x_min, y_min], 1)
    return grey[y_min:y_max, x_min:x_max][mask.astype(bool)]


def measure_cell(
    cell: Cell,
    image_rgb: np.ndarray | None = None,
    microns_per_pixel: float | None = None,
    image_key: str | None = None,
) -> CellMeasurements:
    """Measure one cell; `image_rgb` (RGB or grey) is needed for nuclear intensity."""
    scale = float(microns_per_pixel) if microns_per_pixel else 1.0
    cell_shape = outline_polygon(cell.cytoplasm)
    area_px = float(cell_shape.area)
    perimeter_px = float(cell_shape.length)
    circularity = 4.0 * math.pi * area_px / perimeter_px**2 if perimeter_px > 0 else 0.0

    nucleus_area_px = None
    nc_ratio = None
    intensity = None
    if cell.nucleus is not None:
        nucleus_area_px = float(outline_polygon(cell.nucleus).area)
        cytoplasm_area_px = area_px - nucleus_area_px
        if cytoplasm_area_px > 0:
            nc_ratio = nucleus_area_px / cytoplasm_area_px
        if image_rgb is not None:
            pixels = polygon_pixels(grey_of(image_rgb), cell.nucleus)
            if pixels.size:
                intensity = float(pixels.mean())

    return CellMeasurements(
        cell_index=cell.index,
        class_name=cell.class_name,
        area=area_px * scale**2,
        perimeter=perimeter_px * scale,
        nucleus_area=None if nucleus_area_px is None else nucleus_area_px * scale**2,
        nc_ratio=nc_ratio,
        circularity=circularity,
        mean_nuclear_intensity=intensity,
        microns_per_pixel=float(microns_per_pixel) if microns_per_pixel else None,
        image_key=image_key,
    )


def measure_image(
    image_record: ImageRecord,
    image_rgb: np.ndarray | None,
    microns_per_pixel: float | None = None,
) -> list[CellMeasurements]:
    """Measure every cell of an image, converting the image to grey only once."""
    grey = None if image_rgb is None else grey_of(image_rgb)
    return [
        measure_cell(cell, grey, microns_per_pixel, image_key=image_record.key)
        for cell in image_record.cells
    ]
