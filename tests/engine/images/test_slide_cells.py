"""A slide opened on its own: its size from the file, its cells from the GeoJSON
beside it, and every cell measured on just the pixels around its nucleus."""

from __future__ import annotations

import json

import pytest

from engine.images import open_image
from engine.images.slide_cells import (
    SlideCellsError,
    open_single_image,
    read_cells_geojson,
)
from engine.images.synth_slide import write_synthetic_slide
from engine.metrics import source_measurements
from engine.metrics.measurements import measure_image
from engine.metrics.source_measurements import measure_cells


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    return write_synthetic_slide(
        tmp_path_factory.mktemp("slide") / "smear.ome.tif", (1024, 1024), seed=3
    )


def test_a_slide_opens_with_its_size_and_the_cells_written_beside_it(slide):
    record = open_single_image(slide.path)

    assert record.size == (1024, 1024)
    assert record.key == "smear.ome.tif"
    assert len(record.cells) == slide.cell_count > 0
    assert [cell.index for cell in record.cells] == list(range(1, slide.cell_count + 1))
    assert {cell.class_name for cell in record.cells} <= {
        "superficial-intermediate",
        "parabasal",
        "metaplastic",
        "koilocytotic",
        "dyskeratotic",
    }
    assert all(cell.nucleus is not None for cell in record.cells)
    assert all(len(cell.cytoplasm) >= 3 for cell in record.cells)


def test_an_image_without_cells_beside_it_opens_with_none(slide, tmp_path):
    lonely = tmp_path / "lonely.ome.tif"
    lonely.write_bytes(slide.path.read_bytes())

    assert open_single_image(lonely).cells == []


def test_features_that_are_not_polygons_are_skipped(tmp_path):
    path = tmp_path / "cells.geojson"
    square = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [1, 2]},
                    },
                    {
                        "type": "Feature",
                        "geometry": {"type": "Polygon", "coordinates": [square]},
                        "properties": {"classification": {"name": "Parabasal"}},
                    },
                ],
            }
        )
    )

    cells = read_cells_geojson(path)

    assert len(cells) == 1
    assert cells[0].class_name == "parabasal"
    assert len(cells[0].cytoplasm) == 4  # the closing vertex is not repeated
    assert cells[0].nucleus is None


def test_a_damaged_cells_file_is_reported_with_its_path(tmp_path):
    path = tmp_path / "cells.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [')

    with pytest.raises(SlideCellsError, match="cells.geojson"):
        read_cells_geojson(path)


def test_cells_measured_around_their_nuclei_match_the_whole_image(slide, monkeypatch):
    record = open_single_image(slide.path)
    with open_image(slide.path) as source:
        whole = measure_image(
            record, source.read_region(0, 0, 0, 1024, 1024), source.microns_per_pixel
        )
        monkeypatch.setattr(source_measurements, "WHOLE_IMAGE_UP_TO", 0)
        reported = []
        by_region = measure_cells(
            record.cells,
            source,
            record.key,
            progress=lambda *done: reported.append(done),
        )

    assert [m.cell_index for m in by_region] == [m.cell_index for m in whole]
    for region, full in zip(by_region, whole, strict=True):
        assert region.area == pytest.approx(full.area)
        assert region.area_unit == "um2"  # the slide knows its pixel size
        assert region.mean_nuclear_intensity == pytest.approx(
            full.mean_nuclear_intensity
        )
    assert reported[-1] == (len(record.cells), len(record.cells))


def test_measuring_stops_when_cancelled(slide):
    record = open_single_image(slide.path)

    measured = measure_cells(record.cells, None, cancelled=lambda: True)

    assert measured == []
