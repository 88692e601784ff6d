"""The U-Net's stored cell and nucleus probabilities of one image, read by region,
whether the store kept them as a PNG (small images) or a pyramidal OME-TIFF.

A slide's mask may be coarser than the slide (it is kept at the U-Net's own
scale); regions are always asked for, and returned, in the image's level-0
pixels.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from engine.predictions.store import PredictionStore

log = logging.getLogger(__name__)

THRESHOLD = 0.5  # a pixel is cell (or nucleus) at this probability or above


class UnetMask:
    """Cell (channel 0) and nucleus (channel 1) probabilities in [0, 1]."""

    def __init__(
        self,
        array: np.ndarray | None = None,
        source=None,
        image_size: tuple[int, int] | None = None,
    ):
        """`image_size`: the (width, height) of the image a slide's mask (a
        `source`) covers, when the mask is a coarser picture of it; by default
        the mask's own."""
        if (array is None) == (source is None):
            raise ValueError("give either the mask's pixels or an image source")
        self._array = array
        self._source = source
        self._image_size = image_size

    @classmethod
    def open(
        cls,
        store: PredictionStore,
        run: str,
        image_key: str,
        image_size: tuple[int, int] | None = None,
    ) -> UnetMask | None:
        """The run's mask of an image, or None when none is stored. A slide's
        mask learns the slide's size from `image_size` or else from the run's
        cells file."""
        path = store.find_mask(run, image_key)
        if path is None:
            return None
        if path.name.endswith(".png"):
            return cls(array=store.load_mask(run, image_key))
        # Slide masks are pyramidal; only the region asked for is ever read.
        from engine.images import open_image

        if image_size is None:
            predictions = store.load_cells(run, image_key)
            if predictions is not None:
                image_size = predictions.image_size
        return cls(source=open_image(path), image_size=image_size)

    @property
    def stored_size(self) -> tuple[int, int]:
        """(width, height) of the stored mask's pixels."""
        if self._array is not None:
            height, width = self._array.shape[:2]
            return width, height
        return self._source.size

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image the mask covers, in level-0 pixels."""
        if self._image_size is not None:
            return tuple(int(side) for side in self._image_size)
        return self.stored_size

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
        if self._array is not None:  # a small image's mask, always its size
            return left, top, self._array[top:bottom, left:right]
        if self.stored_size == self.size:
            pixels = self._stored_region(left, top, right, bottom)
        else:
            pixels = self._stretched_region(left, top, right, bottom)
        return left, top, pixels[..., :2].astype(np.float32) / 255.0

    def _stored_region(self, left: int, top: int, right: int, bottom: int):
        return self._source.read_region(0, left, top, right - left, bottom - top)

    def _stretched_region(self, left: int, top: int, right: int, bottom: int):
        """Level-0 pixels [left, right) x [top, bottom) sampled bilinearly from
        the coarser stored mask (pixel centres matched, as the pipeline wrote it)."""
        (stored_width, stored_height), (width, height) = self.stored_size, self.size
        fx, fy = stored_width / width, stored_height / height
        xs = (np.arange(left, right, dtype=np.float64) + 0.5) * fx - 0.5
        ys = (np.arange(top, bottom, dtype=np.float64) + 0.5) * fy - 0.5
        x0 = max(0, int(np.floor(xs[0])))
        y0 = max(0, int(np.floor(ys[0])))
        x1 = min(stored_width, int(np.floor(xs[-1])) + 2)
        y1 = min(stored_height, int(np.floor(ys[-1])) + 2)
        stored = self._stored_region(x0, y0, x1, y1)
        map_x = np.broadcast_to((xs - x0).astype(np.float32), (len(ys), len(xs)))
        map_y = np.broadcast_to(
            (ys - y0).astype(np.float32)[:, None], (len(ys), len(xs))
        )
        return cv2.remap(
            np.ascontiguousarray(stored),
            np.ascontiguousarray(map_x),
            np.ascontiguousarray(map_y),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )

    def close(self) -> None:
        if self._source is not None:
            self._source.close()

    def __enter__(self) -> UnetMask:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
