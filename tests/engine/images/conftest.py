"""Small images with known pixels, written in each format the image layer reads."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile


def known_pixels(width: int, height: int, seed: int = 0) -> np.ndarray:
    """An RGB uint8 image with gradients, discs and noise, so that any shift shows."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    red = xs * 255 // max(width - 1, 1)
    green = ys * 255 // max(height - 1, 1)
    blue = (xs + ys) % 256
    image = np.stack([red, green, blue], axis=2).astype(np.uint8)
    for _ in range(12):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        colour = tuple(int(value) for value in rng.integers(0, 256, 3))
        cv2.circle(image, centre, int(rng.integers(5, 60)), colour, -1)
    image ^= rng.integers(0, 8, image.shape, dtype=np.uint8)
    return image


def halve(image: np.ndarray) -> np.ndarray:
    """The next pyramid level as the OpenCV backend and these tests make it."""
    height, width = image.shape[:2]
    return cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)


def write_pyramidal_ome_tiff(
    path: Path, levels: list[np.ndarray], tile: int = 128, mpp: float = 0.5
) -> Path:
    """A lossless (deflate) tiled OME-TIFF whose levels are exactly `levels`."""
    with tifffile.TiffWriter(path, bigtiff=False, ome=True) as tiff:
        options = dict(tile=(tile, tile), photometric="rgb", compression="zlib")
        tiff.write(
            levels[0],
            subifds=len(levels) - 1,
            metadata={"axes": "YXS", "PhysicalSizeX": mpp, "PhysicalSizeY": mpp},
            **options,
        )
        for level in levels[1:]:
            tiff.write(level, subfiletype=1, metadata=None, **options)
    return path


@pytest.fixture(scope="session")
def make_pixels():
    """`make_pixels(width, height, seed=0)`: see known_pixels."""
    return known_pixels


@pytest.fixture(scope="session")
def halve_image():
    return halve


@pytest.fixture(scope="session")
def write_ome_tiff():
    """`write_ome_tiff(path, levels, tile=128, mpp=0.5)`: a lossless OME-TIFF."""
    return write_pyramidal_ome_tiff


@pytest.fixture(scope="session")
def slide_pixels() -> list[np.ndarray]:
    """Three pyramid levels of a 700x500 image (odd tile counts on purpose)."""
    base = known_pixels(700, 500, seed=1)
    level1 = halve(base)
    return [base, level1, halve(level1)]


@pytest.fixture
def ome_tiff(tmp_path, slide_pixels) -> Path:
    return write_pyramidal_ome_tiff(tmp_path / "slide.ome.tif", slide_pixels)
