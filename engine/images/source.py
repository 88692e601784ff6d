"""The one interface through which the viewer and the models read any image.

A backend says how big each pyramid level is and reads the part of a region
that lies inside the image; this base class checks requests and pads the rest
with white, the colour of an empty slide.
"""

from __future__ import annotations

import abc
import itertools
from pathlib import Path
from typing import NamedTuple

import numpy as np

from engine.images.errors import (
    ImageSourceError,
    RegionError,
    UnsupportedImageError,
)

DEFAULT_TILE_SIZE = 512
BACKGROUND = 255  # white: what glass without cells looks like in bright field

_source_ids = itertools.count(1)


class Level(NamedTuple):
    """One pyramid level: its size in pixels and its downsample from level 0."""

    width: int
    height: int
    downsample: float


class ImageSource(abc.ABC):
    """An image, small or a whole slide, read by region at any pyramid level.

    Pixels come back as RGB uint8 arrays of shape (height, width, 3).
    Coordinates are pixels of the level asked for. Sources are safe to read
    from several threads at once.
    """

    #: Short name of the file format, e.g. "PNG", "OME-TIFF", "SVS".
    format_name: str = ""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        # Unique per opened source, so that caches never mix two files, nor
        # two openings of a file that may have changed in between.
        self.source_id = next(_source_ids)
        self._closed = False

    # What every backend describes.

    @property
    @abc.abstractmethod
    def levels(self) -> list[Level]:
        """(width, height, downsample) of each level, level 0 first."""

    @property
    def microns_per_pixel(self) -> float | None:
        """Size of a level-0 pixel in micrometres, when the file says it."""
        return None

    @property
    def tile_size(self) -> int:
        """The file's natural tile edge in pixels, or a default for untiled files."""
        return DEFAULT_TILE_SIZE

    @property
    def compression(self) -> str | None:
        """How the pixels are stored in the file, when that is known."""
        return None

    @abc.abstractmethod
    def _read_inside(
        self, level: int, x: int, y: int, width: int, height: int
    ) -> np.ndarray:
        """Pixels of a region that lies wholly inside the level, RGB uint8."""

    @abc.abstractmethod
    def _close(self) -> None:
        """Release the backend's files and memory; called once."""

    # What the base class does for every backend.

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of level 0."""
        level = self.levels[0]
        return level.width, level.height

    @property
    def level_count(self) -> int:
        return len(self.levels)

    def level_for_downsample(self, downsample: float) -> int:
        """The most reduced level that still has at least the detail asked for."""
        best = 0
        for index, level in enumerate(self.levels):
            if level.downsample <= downsample * 1.01:
                best = index
        return best

    def read_region(
        self, level: int, x: int, y: int, width: int, height: int
    ) -> np.ndarray:
        """Pixels of a region of one level; the part outside the image is white.

        Raises RegionError for a level that does not exist, a non-positive
        size, or a region that does not overlap the image at all.
        """
        if self._closed:
            raise ImageSourceError(
                "the image was closed", self.path, "open it again to read it"
            )
        left, top, right, bottom = clip_region(self, level, x, y, width, height)
        level, x, y, width, height = (int(v) for v in (level, x, y, width, height))
        inside = self._read_inside(level, left, top, right - left, bottom - top)
        if (left, top, right, bottom) == (x, y, x + width, y + height):
            return inside
        region = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
        region[top - y : bottom - y, left - x : right - x] = inside
        return region

    def close(self) -> None:
        """Release the file; reading afterwards raises ImageSourceError."""
        if not self._closed:
            self._closed = True
            self._close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        width, height = self.size
        return (
            f"<{type(self).__name__} {self.path.name!r} {width}x{height} "
            f"levels={len(self.levels)}>"
        )


def clip_region(
    source: ImageSource, level: int, x: int, y: int, width: int, height: int
) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the part of a region inside the level.

    Raises RegionError for a level that does not exist, a non-positive size,
    or a region that does not overlap the level at all.
    """
    level, x, y, width, height = (int(v) for v in (level, x, y, width, height))
    levels = source.levels
    if not 0 <= level < len(levels):
        raise RegionError(
            f"level {level} does not exist; this image has levels "
            f"0 to {len(levels) - 1}",
            source.path,
        )
    if width <= 0 or height <= 0:
        raise RegionError(
            f"a region must have a positive size, not {width}x{height}",
            source.path,
        )
    level_width, level_height = levels[level][:2]
    left, top = max(x, 0), max(y, 0)
    right, bottom = min(x + width, level_width), min(y + height, level_height)
    if left >= right or top >= bottom:
        raise RegionError(
            f"region x={x} y={y} {width}x{height} lies outside level {level} "
            f"({level_width}x{level_height})",
            source.path,
            "ask for a region that overlaps the image",
        )
    return left, top, right, bottom


def to_rgb(pixels: np.ndarray, path: Path) -> np.ndarray:
    """Grey, grey+alpha, RGB or RGBA pixels of 8 or 16 bits as RGB uint8."""
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    elif pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    elif pixels.dtype != np.uint8:
        raise UnsupportedImageError(
            f"pixels of type {pixels.dtype} cannot be shown",
            path,
            "convert the image to 8-bit RGB",
        )
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    channels = pixels.shape[2]
    if channels in (1, 2):
        return np.repeat(pixels[:, :, :1], 3, axis=2)
    if channels in (3, 4):
        return np.ascontiguousarray(pixels[:, :, :3])
    raise UnsupportedImageError(
        f"pixels with {channels} channels cannot be shown as colour",
        path,
        "convert the image to RGB",
    )
