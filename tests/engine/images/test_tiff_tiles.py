"""Tiles decoded straight from the file give the very pixels tifffile's own
reader gives, for JPEG and lossless tiles, and layouts the direct path does not
cover still read right."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from engine.images import open_image


@pytest.mark.parametrize("compression", ["jpeg", "zlib"])
def test_regions_match_tifffiles_own_reading(tmp_path, make_pixels, compression):
    pixels = make_pixels(300, 200, seed=3)
    path = tmp_path / f"{compression}.tif"
    tifffile.imwrite(
        path, pixels, tile=(64, 64), compression=compression, photometric="rgb"
    )
    expected = tifffile.imread(path)  # JPEG's loss included, read whole
    rng = np.random.default_rng(0)
    with open_image(path) as source:
        for _ in range(20):
            x, y = int(rng.integers(0, 290)), int(rng.integers(0, 190))
            width = int(rng.integers(1, 301 - x))
            height = int(rng.integers(1, 201 - y))
            np.testing.assert_array_equal(
                source.read_region(0, x, y, width, height),
                expected[y : y + height, x : x + width],
            )


def test_planar_tiles_still_read_right(tmp_path, make_pixels):
    pixels = make_pixels(200, 130, seed=4)
    path = tmp_path / "planar.tif"
    tifffile.imwrite(
        path,
        np.moveaxis(pixels, 2, 0),
        tile=(64, 64),
        photometric="rgb",
        planarconfig="separate",
    )
    with open_image(path) as source:
        np.testing.assert_array_equal(
            source.read_region(0, 30, 20, 150, 100), pixels[20:120, 30:180]
        )
