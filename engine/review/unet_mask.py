"""The U-Net's stored cell and nucleus probabilities of one image, read by region,
whether the store kept them as a PNG (small images) or a pyramidal OME-TIFF."""

from __future__ import annotations

import logging

import numpy as np

from engine.predictions.store import PredictionStore

log = logging.getLogger(__name__)

THRESHOLD = 0.5  # a pixel is cell (or nucleus) at this probability or above


class UnetMask:
    """Cell (channel 0) and nucleus (channel 1) probabilities in [0, 1]."""

    def __init__(self, array: np.ndarray | None = None, source=None):
        if (array is None) == (source is None):
            raise ValueError("give either the mask's pixels or an image source")
        self._array = array
        self._source = source

    @classmethod
    def open(cls, store: PredictionStore, run: str, image_key: str) -> UnetMask | None:
        """The run's mask of an image, or None when none is stored."""
        path = store.find_mask(run, image_key)
        if path is None:
            return None
        if path.name.endswith(".png"):
            return cls(array=store.load_mask(run, image_key))
        # Slide masks are pyramidal; only the region asked for is ever read.
        from engine.images import open_image

        return cls(source=open_image(path))

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the mask."""
        if self._array is not None:
            height, width = self._array.shape[:2]
            return width, height
        return self._source.size

    def read(
        self, x: int, y: int, width: int, height: int
    ) -> tuple[int, int, np.ndarray]:
        """The part of a region inside the mask: its left, top and (h, w, 2)
        probabilities; an empty array when the region misses the mask."""
        mask_width, mask_height = self.size
        left, top = max(int(x), 0), max(int(y), 0)
        right = min(int(x) + int(width), mask_width)
        bottom = min(int(y) + int(height), mask_height)
        if right <= left or bottom <= top:
            return left, top, np.zeros((0, 0, 2), np.float32)
        if self._array is not None:
            return left, top, self._array[top:bottom, left:right]
        pixels = self._source.read_region(0, left, top, right - left, bottom - top)
        return left, top, pixels[..., :2].astype(np.float32) / 255.0

    def close(self) -> None:
        if self._source is not None:
            self._source.close()

    def __enter__(self) -> UnetMask:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
