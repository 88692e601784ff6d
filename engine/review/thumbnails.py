"""Cell thumbnails for galleries and reports: a square crop around a cell, cut
from its image or slide, with the cell and nucleus outlines drawn on it."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from engine.annotations.dataset import Dataset
from engine.metrics.measurements import read_rgb
from engine.review.ranking import ReviewCandidate, ReviewSource

log = logging.getLogger(__name__)

# (image key, x, y, width, height) -> RGB pixels of that region, white outside
# the image; None when the image cannot be read.
RegionReader = Callable[[str, int, int, int, int], "np.ndarray | None"]

BACKGROUND = 255
CELL_COLOUR = (214, 39, 40)  # RGB: abnormal red, visible on pink and blue stains
NUCLEUS_COLOUR = (31, 119, 180)
CONTEXT = 0.35  # space around the cell, as a share of its larger side


class DatasetImages:
    """Reads regions of a dataset's images, keeping the last few in memory."""

    def __init__(self, dataset: Dataset, keep: int = 4):
        self.dataset = dataset
        self.keep = keep
        self._images: OrderedDict[str, np.ndarray | None] = OrderedDict()

    def _image(self, image_key: str) -> np.ndarray | None:
        if image_key in self._images:
            self._images.move_to_end(image_key)
            return self._images[image_key]
        try:
            path = self.dataset.image(image_key).path
        except KeyError:
            log.warning("The dataset has no image %r for a thumbnail", image_key)
            return None
        pixels = read_rgb(path)
        self._images[image_key] = pixels
        while len(self._images) > self.keep:
            self._images.popitem(last=False)
        return pixels

    def __call__(
        self, image_key: str, x: int, y: int, width: int, height: int
    ) -> np.ndarray | None:
        pixels = self._image(image_key)
        if pixels is None:
            return None
        region = np.full((height, width, 3), BACKGROUND, np.uint8)
        image_height, image_width = pixels.shape[:2]
        left, top = max(x, 0), max(y, 0)
        right, bottom = min(x + width, image_width), min(y + height, image_height)
        if right > left and bottom > top:
            region[top - y : bottom - y, left - x : right - x] = pixels[
                top:bottom, left:right
            ]
        return region

    def close(self) -> None:
        """Let go of the images kept in memory."""
        self._images.clear()


class SlideImages:
    """Reads regions of one slide (every image key is that slide)."""

    def __init__(self, slide_path: Path | str):
        self.slide_path = Path(slide_path)
        self._source = None

    def __call__(
        self, image_key: str, x: int, y: int, width: int, height: int
    ) -> np.ndarray | None:
        if self._source is None:
            from engine.images import open_image

            self._source = open_image(self.slide_path)
        return self._source.read_region(0, x, y, width, height)

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None


def region_reader_for(source: ReviewSource) -> DatasetImages | SlideImages | None:
    """What reads a source's images: its dataset's files or its slide; None when
    it has neither. Close it when done."""
    if source.dataset is not None:
        return DatasetImages(source.dataset)
    if source.slide_path is not None:
        return SlideImages(source.slide_path)
    return None


def cell_thumbnail(
    candidate: ReviewCandidate, read_region: RegionReader, size: int = 160
) -> np.ndarray | None:
    """A size x size RGB crop centred on the cell with its outlines drawn, or None
    when its image cannot be read."""
    x_min, y_min, x_max, y_max = candidate.bounds
    side = int(np.ceil(max(x_max - x_min, y_max - y_min) * (1 + 2 * CONTEXT))) + 8
    centre_x, centre_y = (x_min + x_max) / 2, (y_min + y_max) / 2
    left, top = int(round(centre_x - side / 2)), int(round(centre_y - side / 2))
    crop = read_region(candidate.image_key, left, top, side, side)
    if crop is None:
        return None
    scale = size / side
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    thumbnail = np.ascontiguousarray(
        cv2.resize(crop, (size, size), interpolation=interpolation)
    )
    line = max(1, round(size / 80))
    for outline, colour in (
        (candidate.cytoplasm, CELL_COLOUR),
        (candidate.nucleus, NUCLEUS_COLOUR),
    ):
        if outline is None or len(outline) < 2:
            continue
        # Pixel centres: a vertex at pixel (x, y) is drawn at the middle of it.
        points = (np.asarray(outline) - [left, top] + 0.5) * scale
        points = np.round(points * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(thumbnail, [points], True, colour, line, cv2.LINE_AA, shift=4)
    return thumbnail


def png_bytes(rgb: np.ndarray) -> bytes:
    """An RGB array encoded as PNG."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("the thumbnail could not be encoded as PNG")
    return encoded.tobytes()
