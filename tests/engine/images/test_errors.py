"""Bad files give typed errors that name the file and what to do, never a crash."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import tifffile

from engine.errors import CervixError
from engine.images import (
    BackendMissingError,
    CorruptImageError,
    EmptyImageFileError,
    ImageNotFoundError,
    ImageSourceError,
    RegionError,
    UnsupportedImageError,
    open_image,
)
from engine.images.openslide_source import INSTALL_HINT, OpenSlideSource


def test_every_image_error_is_a_cervix_error():
    for error_type in (
        ImageNotFoundError,
        EmptyImageFileError,
        CorruptImageError,
        UnsupportedImageError,
        BackendMissingError,
        RegionError,
    ):
        assert issubclass(error_type, ImageSourceError)
        assert issubclass(error_type, CervixError)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.svs"
    with pytest.raises(ImageNotFoundError) as raised:
        open_image(path)
    assert str(path) in raised.value.user_message()


@pytest.mark.parametrize("name", ["empty.tif", "empty.png", "empty.svs", "empty.ndpi"])
def test_zero_byte_file(tmp_path, name):
    path = tmp_path / name
    path.touch()
    with pytest.raises(EmptyImageFileError) as raised:
        open_image(path)
    assert "empty" in str(raised.value) and str(path) in str(raised.value)


def test_random_bytes_named_svs(tmp_path):
    path = tmp_path / "scan.svs"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(CorruptImageError) as raised:
        open_image(path)
    assert "not a TIFF" in str(raised.value)


def test_random_bytes_named_png(tmp_path):
    path = tmp_path / "cluster.png"
    path.write_bytes(np.random.default_rng(1).bytes(2048))
    with pytest.raises(CorruptImageError):
        open_image(path)


def test_unknown_format(tmp_path):
    path = tmp_path / "notes.xyz"
    path.write_text("not an image")
    with pytest.raises(UnsupportedImageError) as raised:
        open_image(path)
    assert "SVS" in str(raised.value)  # the message lists what is supported


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageSourceError):
        open_image(tmp_path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.02])
def test_truncated_pyramidal_tiff(tmp_path, slide_pixels, keep, write_ome_tiff):
    whole = write_ome_tiff(tmp_path / "whole.ome.tif", slide_pixels)
    data = whole.read_bytes()
    cut = tmp_path / "cut.ome.tif"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CorruptImageError) as raised:
        with open_image(cut) as source:
            source.read_region(0, 0, 0, *source.size)
    assert str(cut) in str(raised.value)


def test_tiff_header_only(tmp_path):
    path = tmp_path / "header.tif"
    path.write_bytes(b"II*\x00\x08\x00\x00\x00" + b"\x00" * 4)
    with pytest.raises(CorruptImageError):
        open_image(path)


def test_unsupported_compression(tmp_path, make_pixels):
    path = tmp_path / "odd.tif"
    tifffile.imwrite(path, make_pixels(128, 128), tile=(64, 64), photometric="rgb")
    with tifffile.TiffFile(path, mode="r+") as tiff:
        tiff.pages[0].tags["Compression"].overwrite(12345)  # no codec has this code
    with pytest.raises(UnsupportedImageError) as raised:
        open_image(path)
    assert "compression" in str(raised.value)


def test_read_after_close(ome_tiff):
    source = open_image(ome_tiff)
    source.close()
    with pytest.raises(ImageSourceError):
        source.read_region(0, 0, 0, 10, 10)


def test_openslide_formats_name_the_package_to_install(tmp_path, monkeypatch):
    # None in sys.modules makes the import fail, as where it is not installed.
    monkeypatch.setitem(sys.modules, "openslide", None)
    path = tmp_path / "scan.ndpi"
    path.write_bytes(b"II*\x00" + bytes(64))
    with pytest.raises(BackendMissingError) as raised:
        open_image(path)
    message = str(raised.value)
    assert INSTALL_HINT in message and str(path) in message
    assert isinstance(raised.value, UnsupportedImageError)


class _FakeSlide:
    """Stands in for openslide.OpenSlide: a 2-level slide from an array."""

    def __init__(self, pixels: np.ndarray):
        self.pixels = pixels
        height, width = pixels.shape[:2]
        self.level_dimensions = ((width, height), (width // 4, height // 4))
        self.level_downsamples = (1.0, 4.0)
        self.properties = {
            "openslide.mpp-x": "0.2275",
            "openslide.level[0].tile-width": "256",
        }
        self.calls = []

    def read_region(self, location, level, size):
        from PIL import Image

        self.calls.append((location, level, size))
        x, y = location
        step = int(self.level_downsamples[level])
        width, height = size
        rgba = np.zeros((height, width, 4), np.uint8)
        part = self.pixels[y::step, x::step][:height, :width]
        rgba[: part.shape[0], : part.shape[1], :3] = part
        rgba[: part.shape[0], : part.shape[1], 3] = 255
        return Image.fromarray(rgba, "RGBA")

    def close(self):
        pass


def test_openslide_backend_with_a_stand_in(tmp_path, monkeypatch, make_pixels):
    pixels = make_pixels(400, 320)
    fake = _FakeSlide(pixels)
    module = types.SimpleNamespace(
        OpenSlide=lambda path: fake,
        OpenSlideError=RuntimeError,
        OpenSlideUnsupportedFormatError=ValueError,
    )
    monkeypatch.setitem(sys.modules, "openslide", module)
    path = tmp_path / "scan.mrxs"
    path.write_text("[GENERAL]\n")
    with open_image(path) as source:
        assert isinstance(source, OpenSlideSource)
        assert source.format_name == "3DHISTECH MRXS"
        assert source.microns_per_pixel == pytest.approx(0.2275)
        assert source.tile_size == 256
        region = source.read_region(1, 10, 5, 30, 20)
    # Level-1 coordinates go to OpenSlide as level-0 ones.
    assert fake.calls[-1] == ((40, 20), 1, (30, 20))
    np.testing.assert_array_equal(region, pixels[::4, ::4][5:25, 10:40])


def test_a_damaged_tile_spoils_only_the_regions_that_touch_it(
    tmp_path, slide_pixels, write_ome_tiff
):
    path = write_ome_tiff(tmp_path / "damaged.ome.tif", slide_pixels)
    with tifffile.TiffFile(path) as tiff:
        page = tiff.series[0].levels[0].keyframe
        last = len(page.dataoffsets) - 1  # the bottom-right tile of level 0
        offset, count = page.dataoffsets[last], page.databytecounts[last]
    data = bytearray(path.read_bytes())
    data[offset : offset + count] = b"\xff" * count  # no longer a deflate stream
    path.write_bytes(bytes(data))

    with open_image(path) as source:
        # Only the tiles a region touches are decoded, so the rest still reads.
        np.testing.assert_array_equal(
            source.read_region(0, 0, 0, 300, 200), slide_pixels[0][:200, :300]
        )
        with pytest.raises(CorruptImageError) as raised:
            source.read_region(0, 650, 450, 20, 20)
    assert "level 0" in str(raised.value) and str(path) in str(raised.value)
