"""The tifffile + zarr backend returns exactly the pixels that were written."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tifffile

from engine.images import RegionError, open_image
from engine.images.opencv_source import OpenCVSource
from engine.images.tiff_source import TiffSource


def test_ome_tiff_describes_its_pyramid(ome_tiff, slide_pixels):
    with open_image(ome_tiff) as source:
        assert isinstance(source, TiffSource)
        assert source.format_name == "OME-TIFF"
        assert source.size == (700, 500)
        assert [level[:2] for level in source.levels] == [
            (pixels.shape[1], pixels.shape[0]) for pixels in slide_pixels
        ]
        assert source.levels[1].downsample == pytest.approx(2.0)
        assert source.levels[2].downsample == pytest.approx(700 / 175)
        assert source.microns_per_pixel == pytest.approx(0.5)
        assert source.tile_size == 128
        assert source.compression == "ADOBE_DEFLATE"


def test_level_for_a_zoom(ome_tiff):
    with open_image(ome_tiff) as source:
        assert source.level_for_downsample(1.0) == 0
        assert source.level_for_downsample(1.9) == 0  # never less detail than asked
        assert source.level_for_downsample(2.0) == 1
        assert source.level_for_downsample(3.5) == 1
        assert source.level_for_downsample(64.0) == 2


@pytest.mark.parametrize(
    "level, region",
    [
        (0, (0, 0, 700, 500)),  # the whole level
        (0, (100, 90, 300, 200)),  # across tile borders
        (0, (128, 128, 128, 128)),  # exactly one tile
        (1, (0, 0, 350, 250)),
        (1, (37, 61, 200, 150)),
        (2, (10, 5, 100, 80)),
    ],
)
def test_regions_match_the_written_levels(ome_tiff, slide_pixels, level, region):
    x, y, width, height = region
    with open_image(ome_tiff) as source:
        pixels = source.read_region(level, x, y, width, height)
    assert pixels.dtype == np.uint8
    assert pixels.shape == (height, width, 3)
    np.testing.assert_array_equal(
        pixels, slide_pixels[level][y : y + height, x : x + width]
    )


def test_region_over_the_edge_is_padded_with_white(ome_tiff, slide_pixels):
    with open_image(ome_tiff) as source:
        pixels = source.read_region(1, 300, -20, 100, 60)  # level 1 is 350x250
    np.testing.assert_array_equal(pixels[20:, :50], slide_pixels[1][0:40, 300:350])
    assert (pixels[:20] == 255).all()
    assert (pixels[:, 50:] == 255).all()


@pytest.mark.parametrize(
    "level, region",
    [
        (0, (700, 0, 10, 10)),
        (0, (-10, -10, 10, 10)),
        (0, (5, 5, 0, 4)),
        (0, (5, 5, 4, -1)),
        (3, (0, 0, 10, 10)),
        (-1, (0, 0, 10, 10)),
    ],
)
def test_impossible_regions_raise_region_error(ome_tiff, level, region):
    with open_image(ome_tiff) as source, pytest.raises(RegionError) as raised:
        source.read_region(level, *region)
    assert str(ome_tiff) in str(raised.value)


def test_reads_from_many_threads_agree(ome_tiff, slide_pixels):
    rng = np.random.default_rng(4)
    requests = [
        (int(rng.integers(0, 2)), int(rng.integers(0, 300)), int(rng.integers(0, 200)))
        for _ in range(64)
    ]
    with open_image(ome_tiff) as source:

        def read(request):
            level, x, y = request
            return source.read_region(level, x, y, 50, 40)

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(read, requests))
    for (level, x, y), pixels in zip(requests, results, strict=True):
        expected = slide_pixels[level][y : y + 40, x : x + 50]
        np.testing.assert_array_equal(
            pixels[: expected.shape[0], : expected.shape[1]], expected
        )


def test_files_opened_from_many_threads_at_once_all_open(
    tmp_path, ome_tiff, slide_pixels
):
    """The window opens an image in one thread while another measures it; with
    tifffile's shared first-use locks that once deadlocked."""
    copies = []
    for index in range(6):
        copy = tmp_path / f"copy-{index}.ome.tif"
        copy.write_bytes(ome_tiff.read_bytes())
        copies.append(copy)

    def open_and_read(path):
        with open_image(path) as source:
            return source.read_region(1, 10, 10, 30, 20)

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(open_and_read, path) for path in copies * 4]
        results = [future.result(timeout=120) for future in futures]
    for pixels in results:
        np.testing.assert_array_equal(pixels, slide_pixels[1][10:30, 10:40])


def test_svs_levels_and_pixel_size(tmp_path, make_pixels):
    base = make_pixels(768, 512, seed=2)
    path = tmp_path / "scan.svs"
    header = "Aperio Image Library v12.0.15 \n768x512 (256x256) JPEG/RGB Q=70"
    with tifffile.TiffWriter(path) as tiff:
        options = dict(photometric="rgb", metadata=None)
        tiff.write(
            base,
            tile=(256, 256),
            compression="zlib",
            description=header + "|AppMag = 20|MPP = 0.4990",
            **options,
        )
        tiff.write(base[::8, ::8], description=header + " thumbnail", **options)
        tiff.write(
            base[::4, ::4],
            tile=(256, 256),
            compression="zlib",
            description=header + " level",
            **options,
        )
    with open_image(path) as source:
        assert source.format_name == "SVS"
        assert source.microns_per_pixel == pytest.approx(0.499)
        assert [level.downsample for level in source.levels] == [1.0, 4.0]
        np.testing.assert_array_equal(
            source.read_region(1, 10, 20, 150, 100), base[::4, ::4][20:120, 10:160]
        )


def test_tiled_grey_tiff_with_resolution_tags(tmp_path, make_pixels):
    grey = make_pixels(300, 200)[:, :, 1]
    path = tmp_path / "grey.tif"
    tifffile.imwrite(
        path,
        grey,
        tile=(64, 64),
        resolution=(40000, 40000),
        resolutionunit="CENTIMETER",
    )
    with open_image(path) as source:
        assert isinstance(source, TiffSource)
        assert source.format_name == "tiled TIFF"
        assert source.microns_per_pixel == pytest.approx(0.25)
        pixels = source.read_region(0, 0, 0, 300, 200)
    np.testing.assert_array_equal(pixels, np.repeat(grey[:, :, None], 3, axis=2))


def test_screen_resolution_is_not_taken_for_a_pixel_size(tmp_path, make_pixels):
    path = tmp_path / "photo.tif"
    tifffile.imwrite(path, make_pixels(128, 128), tile=(64, 64), resolution=(72, 72))
    with open_image(path) as source:
        assert source.microns_per_pixel is None


def test_plain_strip_tiff_goes_to_opencv(tmp_path, make_pixels):
    pixels = make_pixels(200, 150)
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, pixels, photometric="rgb")
    with open_image(path) as source:
        assert isinstance(source, OpenCVSource)
        np.testing.assert_array_equal(source.read_region(0, 0, 0, 200, 150), pixels)
