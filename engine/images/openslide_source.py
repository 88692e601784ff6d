"""Slide formats that only OpenSlide reads (NDPI, MRXS, SCN and others).

OpenSlide is optional: without it these formats give a clear error that names
the packages to install, and every other format still opens.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import numpy as np

from engine.images.errors import (
    BackendMissingError,
    CorruptImageError,
    UnsupportedImageError,
)
from engine.images.source import DEFAULT_TILE_SIZE, ImageSource, Level

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install openslide-python openslide-bin"

#: Extensions that go to OpenSlide, with the format name shown to the user.
OPENSLIDE_FORMATS = {
    ".ndpi": "Hamamatsu NDPI",
    ".vms": "Hamamatsu VMS",
    ".vmu": "Hamamatsu VMU",
    ".mrxs": "3DHISTECH MRXS",
    ".scn": "Leica SCN",
    ".bif": "Ventana BIF",
    ".svslide": "Sakura SVSLIDE",
}


def _import_openslide():
    try:
        return importlib.import_module("openslide")
    except (ImportError, OSError) as error:
        # openslide-python raises OSError when its C library is missing.
        raise BackendMissingError(
            f"reading this format needs OpenSlide, which is not available ({error})",
            None,
            f"install it with `{INSTALL_HINT}`",
        ) from error


class OpenSlideSource(ImageSource):
    """A slide read through OpenSlide, which does the format's own tiling."""

    def __init__(self, path: Path | str):
        super().__init__(path)
        self.format_name = OPENSLIDE_FORMATS.get(
            self.path.suffix.lower(), "OpenSlide slide"
        )
        try:
            openslide = _import_openslide()
        except BackendMissingError as error:
            raise BackendMissingError(
                f"{self.format_name} files need OpenSlide, which is not installed",
                self.path,
                error.hint,
            ) from error
        self._error_types = (openslide.OpenSlideError, OSError, ValueError)
        try:
            self._slide = openslide.OpenSlide(str(self.path))
        except openslide.OpenSlideUnsupportedFormatError as error:
            raise UnsupportedImageError(
                f"OpenSlide does not recognise this file: {error}",
                self.path,
                "check that it is a whole-slide image and not damaged",
            ) from error
        except self._error_types as error:
            raise CorruptImageError(
                f"OpenSlide cannot open this file: {error}",
                self.path,
                "the file may be damaged; copy it again",
            ) from error

        properties = self._slide.properties
        self._levels = [
            Level(int(width), int(height), float(downsample))
            for (width, height), downsample in zip(
                self._slide.level_dimensions,
                self._slide.level_downsamples,
                strict=True,
            )
        ]
        self._microns_per_pixel = _float_or_none(properties.get("openslide.mpp-x"))
        self._tile_size = int(
            _float_or_none(properties.get("openslide.level[0].tile-width"))
            or DEFAULT_TILE_SIZE
        )
        log.debug("opened %r with OpenSlide", str(self.path))

    @property
    def levels(self) -> list[Level]:
        return list(self._levels)

    @property
    def microns_per_pixel(self) -> float | None:
        return self._microns_per_pixel

    @property
    def tile_size(self) -> int:
        return self._tile_size

    def _read_inside(
        self, level: int, x: int, y: int, width: int, height: int
    ) -> np.ndarray:
        # OpenSlide places a region by its level-0 corner, whatever the level.
        downsample = self._levels[level].downsample
        corner = (int(round(x * downsample)), int(round(y * downsample)))
        try:
            image = self._slide.read_region(corner, level, (width, height))
        except self._error_types as error:
            raise CorruptImageError(
                f"OpenSlide cannot read level {level} at x={x} y={y}: {error}",
                self.path,
                "the file may be damaged; copy it again",
            ) from error
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
        # Where the scanner recorded nothing OpenSlide gives transparent
        # pixels; they become white like the padding outside the image.
        alpha = rgba[:, :, 3:4] / 255.0
        rgb = rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
        return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)

    def _close(self) -> None:
        self._slide.close()


def _float_or_none(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
