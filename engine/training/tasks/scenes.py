"""Whole images for the segmentation tasks: which ones, and at what scale.

The U-Net and Mask R-CNN learn from cluster images, where cells overlap as
they do on a slide. Each image is scaled once so that its shorter side is the
model's input size; outlines are scaled with it.
"""

from __future__ import annotations

import logging

import numpy as np

from engine.annotations import ImageKind, ImageRecord

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
