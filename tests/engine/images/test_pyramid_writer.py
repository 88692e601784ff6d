"""The streaming pyramid writer: its levels are halvings of what was painted."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.images import open_image
from engine.images.pyramid_writer import pyramid_levels, write_pyramidal_ome_tiff


def smooth_pixels(width: int, height: int) -> np.ndarray:
    """Soft colour blobs: JPEG keeps them within a few grey levels."""
    rng = np.random.default_rng(2)
    coarse = rng.integers(40, 220, (height // 64 + 2, width // 64 + 2, 3), np.uint8)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def test_level_sizes_halve_until_one_tile():
    assert [
        (level.width, level.height) for level in pyramid_levels(1500, 700, 256)
    ] == [
        (1500, 700),
        (750, 350),
        (375, 175),
        (188, 88),
    ]
    assert len(pyramid_levels(256, 256, 256)) == 1


@pytest.mark.parametrize("workers", [1, 3])
def test_levels_match_downsampled_painting(tmp_path, workers):
    tile = 128
    width, height = 700, 450
    painted = np.full((4 * tile, 6 * tile, 3), 255, np.uint8)
    painted[:height, :width] = smooth_pixels(width, height)

    def paint(tile_x, tile_y):
        return painted[
            tile_y * tile : (tile_y + 1) * tile, tile_x * tile : (tile_x + 1) * tile
        ]

    rows_seen = []
    path = tmp_path / "pyramid.ome.tif"
    levels = write_pyramidal_ome_tiff(
        path,
        (width, height),
        paint,
        tile_size=tile,
        microns_per_pixel=0.5,
        progress=lambda done, rows: rows_seen.append((done, rows)),
        workers=workers,
    )
    assert rows_seen[-1] == (4, 4)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind

    expected = painted
    with open_image(path) as source:
        assert len(source.levels) == len(levels) == 4
        assert source.microns_per_pixel == pytest.approx(0.5)
        for index, level in enumerate(levels):
            if index:
                expected = cv2.resize(
                    expected,
                    (expected.shape[1] // 2, expected.shape[0] // 2),
                    interpolation=cv2.INTER_AREA,
                )
            pixels = source.read_region(index, 0, 0, level.width, level.height)
            difference = np.abs(
                pixels.astype(int) - expected[: level.height, : level.width]
            )
            # JPEG costs a few grey levels; a misplaced tile would cost tens.
            assert difference.mean() < 5, f"level {index} differs"


def test_a_failing_painter_leaves_no_file(tmp_path):
    def paint(tile_x, tile_y):
        if tile_y == 1:
            raise RuntimeError("painter broke")
        return np.zeros((64, 64, 3), np.uint8)

    path = tmp_path / "broken.ome.tif"
    with pytest.raises(RuntimeError):
        write_pyramidal_ome_tiff(path, (200, 200), paint, tile_size=64, workers=2)
    assert list(tmp_path.iterdir()) == []


def test_wrong_tile_shape_is_refused(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        write_pyramidal_ome_tiff(
            tmp_path / "x.ome.tif",
            (100, 100),
            lambda tile_x, tile_y: np.zeros((10, 10, 3), np.uint8),
            tile_size=64,
        )
