"""Ordinary image files (BMP, PNG, JPEG, plain TIFF) read whole through OpenCV.

The reduced levels the viewer zooms out to are made on first use by halving
with area averaging, so opening a cluster image costs one decode and no more.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import cv2
import numpy as np

from engine.images.errors import CorruptImageError, ImageSourceError
from engine.images.source import ImageSource, Level

log = logging.getLogger(__name__)

#: A level whose smaller side is this or less is the last one made.
SMALLEST_LEVEL_SIDE = 512

FORMAT_NAMES = {
    ".bmp": "BMP",
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


def pyramid_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """Level sizes from halving until the smaller side is at most 512 pixels."""
    sizes = [(width, height)]
    while min(sizes[-1]) > SMALLEST_LEVEL_SIDE:
        last_width, last_height = sizes[-1]
        sizes.append((max(1, last_width // 2), max(1, last_height // 2)))
    return sizes


class OpenCVSource(ImageSource):
    """An image small enough to decode whole, with a pyramid made on demand."""

    def __init__(self, path: Path | str):
        super().__init__(path)
        pixels = _decode(self.path)
        height, width = pixels.shape[:2]
        self._pixels: list[np.ndarray | None] = [None] * len(
            pyramid_sizes(width, height)
        )
        self._pixels[0] = pixels
        self._levels = [
            Level(level_width, level_height, width / level_width)
            for level_width, level_height in pyramid_sizes(width, height)
        ]
        self._pyramid_lock = threading.Lock()
        self.format_name = FORMAT_NAMES.get(self.path.suffix.lower(), "image")
        log.debug("opened %r with OpenCV: %dx%d", str(self.path), width, height)

    @property
    def levels(self) -> list[Level]:
        return list(self._levels)

    def level_pixels(self, level: int) -> np.ndarray:
        """The whole of one level, making it (and the levels above) if needed."""
        with self._pyramid_lock:
            for index in range(1, level + 1):
                if self._pixels[index] is None:
                    size = self._levels[index][:2]
                    self._pixels[index] = cv2.resize(
                        self._pixels[index - 1], size, interpolation=cv2.INTER_AREA
                    )
            return self._pixels[level]

    def _read_inside(
        self, level: int, x: int, y: int, width: int, height: int
    ) -> np.ndarray:
        return self.level_pixels(level)[y : y + height, x : x + width].copy()

    def _close(self) -> None:
        self._pixels = [None] * len(self._pixels)


def _decode(path: Path) -> np.ndarray:
    """The file's pixels as RGB uint8; typed errors for what cannot be read."""
    try:
        # np.fromfile + imdecode, unlike imread, also opens paths that are not
        # ASCII on Windows.
        encoded = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise ImageSourceError(
            f"cannot read the file: {error.strerror or error}",
            path,
            "check that it exists and that you may read it",
        ) from error
    try:
        pixels = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    except cv2.error as error:
        raise CorruptImageError(
            f"OpenCV cannot decode this image: {error}",
            path,
            "the file may be damaged; export it again",
        ) from error
    if pixels is None or pixels.size == 0:
        raise CorruptImageError(
            "OpenCV cannot decode this image; it is damaged or truncated, or its "
            "name does not match its format",
            path,
            "open the file in another program to check it, or export it again",
        )
    # IMREAD_COLOR already made grey images three-channel; only the order changes.
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
