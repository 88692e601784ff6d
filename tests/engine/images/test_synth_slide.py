"""`write_synthetic_slide`: a pyramidal OME-TIFF that open_image reads, its cells."""

from __future__ import annotations

import json

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from engine.images import open_image
from engine.images.pyramid_writer import write_pyramidal_ome_tiff
from engine.images.slide_painter import CLASS_WEIGHTS, SlidePainter, SlideRecipe
from engine.images.synth_slide import (
    cells_path_for,
    is_synthetic_slide,
    write_synthetic_slide,
)
from engine.synthetic import CLASS_NAMES


@pytest.fixture(scope="module")
def small_slide(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slide")
    return write_synthetic_slide(folder / "smear.ome.tif", (2048, 1536), seed=3)


def test_slide_opens_as_a_pyramidal_ome_tiff(small_slide):
    with open_image(small_slide.path) as source:
        assert source.format_name == "OME-TIFF"
        assert source.size == (2048, 1536)
        assert len(source.levels) >= 2
        assert source.levels[1][:2] == (1024, 768)
        assert source.microns_per_pixel == pytest.approx(0.25)
        assert source.compression == "JPEG"
        assert source.tile_size == 512
        thumbnail = source.read_region(len(source.levels) - 1, 0, 0, 512, 384)
    # Mostly light glass, with darker stained cells somewhere on it.
    assert np.median(thumbnail) > 200
    assert thumbnail.min() < 150


def test_cells_file_is_qupath_geojson_inside_the_slide(small_slide):
    assert small_slide.cells_path == small_slide.path.with_name("smear.cells.geojson")
    collection = json.loads(small_slide.cells_path.read_text())
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert len(features) == small_slide.cell_count > 5
    slide_area = box(0, 0, 2048, 1536)
    for feature in features:
        properties = feature["properties"]
        assert properties["objectType"] == "cell"
        assert properties["classification"]["name"] in CLASS_NAMES
        cell = Polygon(feature["geometry"]["coordinates"][0])
        nucleus = Polygon(properties["nucleusGeometry"]["coordinates"][0])
        assert cell.is_valid and nucleus.is_valid
        assert slide_area.contains(cell)
        assert cell.buffer(0.5).contains(nucleus)


def test_nuclei_in_the_geojson_are_dark_in_the_image(small_slide):
    features = json.loads(small_slide.cells_path.read_text())["features"]
    with open_image(small_slide.path) as source:
        for feature in features[:10]:
            nucleus = Polygon(
                feature["properties"]["nucleusGeometry"]["coordinates"][0]
            )
            x, y = (int(round(value)) for value in nucleus.centroid.coords[0])
            centre = source.read_region(0, x - 1, y - 1, 3, 3)
            assert centre.mean() < 170, f"nucleus at {x},{y} is not dark"


def test_same_seed_same_slide_any_thread_count(tmp_path, small_slide):
    again = write_synthetic_slide(
        tmp_path / "again.ome.tif", (2048, 1536), seed=3, workers=1
    )
    assert again.cells_path.read_bytes() == small_slide.cells_path.read_bytes()
    with open_image(again.path) as first, open_image(small_slide.path) as second:
        np.testing.assert_array_equal(
            first.read_region(0, 0, 0, 2048, 1536),
            second.read_region(0, 0, 0, 2048, 1536),
        )


def test_another_seed_another_slide(tmp_path, small_slide):
    other = write_synthetic_slide(tmp_path / "other.ome.tif", (2048, 1536), seed=4)
    assert other.cells_path.read_bytes() != small_slide.cells_path.read_bytes()


@pytest.mark.parametrize("microns_per_pixel", [0.25, 0.1])
def test_tiles_meet_without_seams(microns_per_pixel):
    recipe = SlideRecipe(2000, 1500, seed=5, microns_per_pixel=microns_per_pixel)
    painter = SlidePainter(recipe)
    whole = painter.paint_tile(0, 0, 1024, 1024, camera_noise=False)
    for x, y in [(0, 0), (512, 0), (0, 512), (512, 512), (300, 700)]:
        part = painter.paint_tile(x, y, 324, 324, camera_noise=False)
        np.testing.assert_array_equal(part, whole[y : y + 324, x : x + 324])


def test_odd_sizes_and_small_tiles(tmp_path):
    slide = write_synthetic_slide(
        tmp_path / "odd.ome.tif", (1000, 700), seed=1, tile_size=256
    )
    with open_image(slide.path) as source:
        assert [level[:2] for level in source.levels] == [
            (1000, 700),
            (500, 350),
            (250, 175),
        ]
        assert source.tile_size == 256


def test_every_class_can_appear():
    assert set(CLASS_WEIGHTS) == set(CLASS_NAMES)
    assert sum(CLASS_WEIGHTS.values()) == pytest.approx(1.0)


def test_cells_file_name_beside_the_slide(tmp_path):
    assert cells_path_for(tmp_path / "a.ome.tif").name == "a.cells.geojson"
    assert cells_path_for(tmp_path / "b.TIFF").name == "b.cells.geojson"
    assert cells_path_for(tmp_path / "c.dat").name == "c.dat.cells.geojson"


def test_a_synthetic_slide_says_so_and_a_plain_slide_does_not(tmp_path, small_slide):
    assert is_synthetic_slide(small_slide.path)
    plain = tmp_path / "plain.ome.tif"
    tile = np.full((256, 256, 3), 200, np.uint8)
    write_pyramidal_ome_tiff(plain, (512, 512), lambda x, y: tile, tile_size=256)
    assert not is_synthetic_slide(plain)
    # A copy under another name is still found out; a damaged file is not a
    # synthetic one.
    renamed = tmp_path / "case-17.ome.tiff"
    renamed.write_bytes(small_slide.path.read_bytes())
    assert is_synthetic_slide(renamed)
    damaged = tmp_path / "damaged.ome.tif"
    damaged.write_bytes(small_slide.path.read_bytes()[:300])
    assert not is_synthetic_slide(damaged)
