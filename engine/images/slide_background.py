"""What lies between the cells of a synthetic slide: light, mucus, debris.

Everything here is defined over the whole slide or drawn as a small patch at
its own place, so tiles painted apart meet without seams.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Patch:
    """A stained region of the slide: its transmission (255 = clear), level 0."""

    x: int
    y: int
    transmission: np.ndarray  # (3, h, w) uint8: one plane per colour


def debris_radius(pixels_per_micron: float) -> int:
    """How far a piece of debris reaches from its centre, in pixels."""
    return int(math.ceil(6 * pixels_per_micron)) + 1


class PeriodicField:
    """A smooth random field over the whole slide, repeating every `period` pixels.

    It is stored coarsely, one sample every `step` pixels, and enlarged with
    linear interpolation on demand. A pixel's value depends only on its place
    on the slide, so tiles painted apart agree exactly where they meet.
    """

    def __init__(
        self, rng: np.random.Generator, period: int, feature: float, step: int
    ):
        self.step = int(step)
        samples = max(int(period // step), 4)
        noise = rng.standard_normal((samples, samples))
        # A Gaussian blur in Fourier space wraps around, so the field repeats
        # without a seam.
        frequency = np.fft.fftfreq(samples)
        sigma = feature / step
        gain = np.exp(-2 * (math.pi * sigma) ** 2 * frequency**2)
        smooth = np.fft.ifft2(np.fft.fft2(noise) * np.outer(gain, gain)).real
        smooth /= smooth.std() or 1.0
        self.samples = smooth.astype(np.float32)

    def values(self, x: int, y: int, width: int, height: int) -> np.ndarray:
        """The field on a region of level 0, float32 of shape (height, width)."""
        step = self.step
        # One coarse sample more on each side than the region needs, so that
        # the enlargement never reaches the edge of the block it enlarges.
        first_column, first_row = x // step - 1, y // step - 1
        columns = (x + width) // step + 2 - first_column
        rows = (y + height) // step + 2 - first_row
        count = self.samples.shape[0]
        block = self.samples[
            np.ix_(
                np.arange(first_row, first_row + rows) % count,
                np.arange(first_column, first_column + columns) % count,
            )
        ]
        enlarged = cv2.resize(
            block, (columns * step, rows * step), interpolation=cv2.INTER_LINEAR
        )
        left, top = x - first_column * step, y - first_row * step
        return enlarged[top : top + height, left : left + width]


def debris_patch(rng: np.random.Generator, centre, pixels_per_micron: float) -> Patch:
    """One inflammatory cell or speck of debris, unannotated as on real slides."""
    ppm = pixels_per_micron
    side = 2 * debris_radius(ppm) + 1
    density = np.zeros((side, side, 3), np.float32)
    middle = side // 2
    kind = rng.random()
    if kind < 0.55:
        # A neutrophil: faint round body, two to four dark nuclear lobes.
        _soft_disc(
            density,
            (middle, middle),
            rng.uniform(4.0, 5.5) * ppm,
            1.8,
            (0.85, 0.88, 0.92),
        )
        for _ in range(int(rng.integers(2, 5))):
            angle = rng.uniform(0, 2 * math.pi)
            distance = rng.uniform(1.0, 2.4) * ppm
            lobe = (
                middle + distance * math.cos(angle),
                middle + distance * math.sin(angle),
            )
            _soft_disc(
                density, lobe, rng.uniform(1.0, 1.6) * ppm, 1.7, (0.42, 0.36, 0.58)
            )
    elif kind < 0.75:
        _soft_disc(
            density,
            (middle, middle),
            rng.uniform(2.5, 3.5) * ppm,
            1.6,
            (0.45, 0.38, 0.6),
        )
    else:
        _soft_disc(
            density,
            (middle, middle),
            rng.uniform(0.4, 1.5) * ppm,
            rng.uniform(0.6, 1.6),
            (0.7, 0.55, 0.6),
        )
    transmission = 255.0 * np.exp(-density)
    top_left = (int(round(centre[0])) - middle, int(round(centre[1])) - middle)
    planes = np.rint(transmission).astype(np.uint8).transpose(2, 0, 1).copy()
    return Patch(top_left[0], top_left[1], planes)


def _soft_disc(density, centre, radius: float, strength: float, stain_rgb) -> None:
    """Add a disc of stain with a soft edge to a density map (-log transmission)."""
    side = density.shape[0]
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    distance = np.hypot(xs - centre[0], ys - centre[1]) / max(radius, 0.5)
    layer = np.clip(1.5 - 1.5 * distance, 0, 1) * strength
    density -= layer[:, :, None] * np.log(np.asarray(stain_rgb, np.float32))
