"""Ordinary images read through OpenCV, and the pyramid made for the viewer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.images import open_image
from engine.images.opencv_source import OpenCVSource, pyramid_sizes


def write_with_opencv(path, rgb: np.ndarray) -> None:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


@pytest.mark.parametrize("name", ["cluster.bmp", "cluster.png", "cluster.jpg"])
def test_pixels_equal_plain_opencv_reading(tmp_path, name, make_pixels):
    path = tmp_path / name
    write_with_opencv(path, make_pixels(320, 240))
    expected = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    with open_image(path) as source:
        assert isinstance(source, OpenCVSource)
        assert source.size == (320, 240)
        assert source.levels == [(320, 240, 1.0)]
        assert source.microns_per_pixel is None
        assert source.tile_size == 512
        whole = source.read_region(0, 0, 0, 320, 240)
        part = source.read_region(0, 17, 33, 100, 50)
    np.testing.assert_array_equal(whole, expected)
    np.testing.assert_array_equal(part, expected[33:83, 17:117])


def test_lossless_formats_keep_the_exact_colours(tmp_path, make_pixels):
    pixels = make_pixels(64, 48)
    path = tmp_path / "exact.png"
    write_with_opencv(path, pixels)
    with open_image(path) as source:
        np.testing.assert_array_equal(source.read_region(0, 0, 0, 64, 48), pixels)


def test_grey_image_becomes_rgb(tmp_path, make_pixels):
    grey = make_pixels(50, 40)[:, :, 0]
    path = tmp_path / "grey.png"
    assert cv2.imwrite(str(path), grey)
    with open_image(path) as source:
        pixels = source.read_region(0, 0, 0, 50, 40)
    assert pixels.shape == (40, 50, 3)
    for channel in range(3):
        np.testing.assert_array_equal(pixels[:, :, channel], grey)


def test_isbi_grey_tif_from_the_real_samples(shared_data):
    sample = shared_data / "isbi2014" / "synthetic" / "1.tif"
    with open_image(sample) as source:
        pixels = source.read_region(0, 0, 0, *source.size)
    grey = cv2.imread(str(sample), cv2.IMREAD_GRAYSCALE)
    assert source.size == (512, 512)
    for channel in range(3):
        np.testing.assert_array_equal(pixels[:, :, channel], grey)


def test_herlev_bmp_from_the_real_samples(shared_data):
    sample = next((shared_data / "herlev").rglob("*.BMP"))
    expected = cv2.cvtColor(cv2.imread(str(sample)), cv2.COLOR_BGR2RGB)
    with open_image(sample) as source:
        assert source.format_name == "BMP"
        np.testing.assert_array_equal(
            source.read_region(0, 0, 0, *source.size), expected
        )


def test_pyramid_is_made_on_demand_by_halving(tmp_path, make_pixels, halve_image):
    pixels = make_pixels(1200, 1100)
    path = tmp_path / "large.png"
    write_with_opencv(path, pixels)
    with open_image(path) as source:
        assert [level[:2] for level in source.levels] == [
            (1200, 1100),
            (600, 550),
            (300, 275),
        ]
        assert source.levels[2].downsample == pytest.approx(4.0)
        assert source._pixels[1] is None  # nothing made before it is asked for
        level2 = source.read_region(2, 0, 0, 300, 275)
    np.testing.assert_array_equal(level2, halve_image(halve_image(pixels)))


def test_pyramid_stops_when_the_smaller_side_fits():
    assert pyramid_sizes(512, 4000) == [(512, 4000)]
    assert pyramid_sizes(2048, 1536)[-1] == (512, 384)
    assert pyramid_sizes(100_000, 1024) == [(100_000, 1024), (50_000, 512)]


def test_edge_padding_is_white(tmp_path, make_pixels):
    pixels = make_pixels(100, 80)
    path = tmp_path / "small.png"
    write_with_opencv(path, pixels)
    with open_image(path) as source:
        region = source.read_region(0, 90, 70, 20, 20)
    np.testing.assert_array_equal(region[:10, :10], pixels[70:80, 90:100])
    assert (region[10:] == 255).all() and (region[:, 10:] == 255).all()
