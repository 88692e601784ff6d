"""Whole images for the segmentation tasks: which ones, and at what scale.

The U-Net and Mask R-CNN learn from cluster images, where cells overlap as
they do on a slide. Each image is scaled once so that its shorter side is the
model's input size; outlines are scaled with it. The pixel size that gives the
model is recorded in its card, so inference reads any image at that size.
"""

from __future__ import annotations

import logging
import statistics

import numpy as np

from engine.annotations import Dataset, ImageKind, ImageRecord
from engine.errors import CervixError
from engine.images import open_image
from engine.synthetic import default_pixels_per_micron

log = logging.getLogger(__name__)


def scene_images(images: list[ImageRecord]) -> list[ImageRecord]:
    """Cluster images with at least one outline; cropped cells if there are none.

    A cluster image without outlines is skipped: its cells, not annotated,
    would be taught as background.
    """
    clusters = [i for i in images if i.kind is ImageKind.CLUSTER and i.cells]
    if clusters:
        return clusters
    cropped = [i for i in images if i.kind is ImageKind.CROPPED and i.cells]
    if cropped:
        log.warning(
            "No annotated cluster images: training on %d cropped cell images",
            len(cropped),
        )
    return cropped


def scale_outline(vertices: np.ndarray, scale: float) -> np.ndarray:
    """Pixel-centre coordinates of an outline in an image resized by `scale`."""
    return (np.asarray(vertices, np.float64) + 0.5) * scale - 0.5


def pad_to_multiple(
    arrays: list[np.ndarray], multiple: int, mode: str
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Stack (H, W, ...) arrays of different sizes, padded at the bottom and right
    to a common size that is a multiple of `multiple`; and each one's (H, W)."""
    sizes = [array.shape[:2] for array in arrays]
    height = -(-max(h for h, _ in sizes) // multiple) * multiple
    width = -(-max(w for _, w in sizes) // multiple) * multiple
    padded = []
    for array in arrays:
        pad = [(0, height - array.shape[0]), (0, width - array.shape[1])]
        pad += [(0, 0)] * (array.ndim - 2)
        padded.append(np.pad(array, pad, mode=mode))
    return np.stack(padded), sizes


def dataset_microns_per_pixel(
    dataset: Dataset, images: list[ImageRecord]
) -> float | None:
    """The pixel size of a dataset's images in micrometres: as `project.json`'s
    settings state it (`microns_per_pixel`), else as the first image's file
    states it, else, for the synthetic sample, the size it was drawn at.

    SIPaKMeD's BMP files state none, and its paper gives none; a user who knows
    the microscope's pixel size writes it into the project settings.
    """
    settings = dataset.settings.settings
    stated = settings.get("microns_per_pixel")
    if stated:
        return float(stated)
    if images:
        try:
            with open_image(images[0].path) as source:
                if source.microns_per_pixel:
                    return float(source.microns_per_pixel)
        except CervixError as error:
            log.debug("No pixel size from %s: %s", images[0].path, error)
    if dataset.settings.synthetic and settings.get("image_size"):
        width, height = settings["image_size"]
        return 1.0 / default_pixels_per_micron((int(width), int(height)))
    return None


def model_microns_per_pixel(
    dataset: Dataset, images: list[ImageRecord], input_size: int
) -> float | None:
    """The pixel size the model sees: the images' own, times the scale that
    brings their (median) shorter side to the input size. None when the
    images' pixel size is unknown."""
    image_mpp = dataset_microns_per_pixel(dataset, images)
    if image_mpp is None or not images:
        return None
    short_sides = []
    for image in images:
        size = image.size
        if size is None:
            try:
                with open_image(image.path) as source:
                    size = source.size
            except CervixError as error:
                log.debug("Size of %s unknown: %s", image.path, error)
                continue
        short_sides.append(min(size))
    if not short_sides:
        return None
    return image_mpp * statistics.median(short_sides) / input_size
