"""QuPath GeoJSON: cell objects with their nucleus, one file per image, and import
of files as QuPath writes them."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import Polygon, shape

from engine.annotations import Dataset
from engine.annotations.interchange import ExportError, export_geojson, import_geojson


def test_export_writes_one_qupath_file_per_image(dataset_root, tmp_path):
    summary = export_geojson(Dataset.open(dataset_root), tmp_path / "qupath")

    names = sorted(path.name for path in summary.files)
    assert names == [
        "im_Koilocytotic__003.geojson",
        "im_Metaplastic__CROPPED__005_01.geojson",
        "im_Parabasal__001.geojson",
    ]
    document = json.loads((tmp_path / "qupath/im_Parabasal__001.geojson").read_text())
    assert document["type"] == "FeatureCollection"
    first, _, reviewed = document["features"]
    assert first["type"] == "Feature"
    assert first["properties"]["objectType"] == "cell"
    assert first["properties"]["isLocked"] is False
    assert first["properties"]["classification"]["name"] == "parabasal"
    assert len(first["properties"]["classification"]["color"]) == 3
    assert reviewed["properties"]["classification"]["name"] == "dyskeratotic"
    ring = first["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] == [10, 10]
    cell, nucleus = shape(first["geometry"]), shape(first["nucleusGeometry"])
    assert cell.contains(nucleus)
    measurements = first["properties"]["measurements"]
    assert measurements["Cell: Area px^2"] == pytest.approx(1600)
    assert measurements["Nucleus: Area px^2"] == pytest.approx(144)
    assert measurements["Nucleus/Cytoplasm area ratio"] == pytest.approx(144 / 1456)


def test_a_cell_without_nucleus_has_no_nucleus_geometry(dataset_root, tmp_path):
    export_geojson(Dataset.open(dataset_root), tmp_path)

    document = json.loads((tmp_path / "im_Koilocytotic__003.geojson").read_text())
    without, with_nucleus = document["features"]
    assert "nucleusGeometry" not in without
    assert "Nucleus/Cytoplasm area ratio" not in without["properties"]["measurements"]
    assert "nucleusGeometry" in with_nucleus


def test_ids_are_stable_across_exports(dataset_root, tmp_path):
    dataset = Dataset.open(dataset_root)
    export_geojson(dataset, tmp_path / "a")
    export_geojson(dataset, tmp_path / "b")
    name = "im_Parabasal__001.geojson"
    ids_a = [
        f["id"] for f in json.loads((tmp_path / "a" / name).read_text())["features"]
    ]
    ids_b = [
        f["id"] for f in json.loads((tmp_path / "b" / name).read_text())["features"]
    ]
    assert ids_a == ids_b and len(set(ids_a)) == 3


def test_one_file_is_refused_for_a_dataset_of_several_images(dataset_root, tmp_path):
    with pytest.raises(ExportError, match="QuPath imports one file per image"):
        export_geojson(Dataset.open(dataset_root), tmp_path / "all.geojson")


def _square(x, y, side):
    ring = [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_import_of_a_qupath_export_with_nested_and_unclassified_cells(
    empty_copy, tmp_path
):
    # As QuPath's "Export objects" writes it by default: a plain list of features,
    # cells nested under the annotation they were detected in.
    features = [
        {
            "type": "Feature",
            "geometry": _square(0, 0, 100),
            "properties": {
                "objectType": "annotation",
                "classification": {"name": "Region*", "color": [0, 0, 255]},
                "childObjects": [
                    {
                        "type": "Feature",
                        "geometry": _square(10, 10, 30),
                        "nucleusGeometry": _square(20, 20, 8),
                        "properties": {
                            "objectType": "cell",
                            "classification": {"name": "Koilocytotic"},
                        },
                    },
                    {
                        "type": "Feature",
                        "geometry": _square(50, 40, 20),
                        "properties": {"objectType": "cell"},
                    },
                    {
                        "type": "Feature",
                        "geometry": _square(60, 10, 20),
                        "properties": {
                            "objectType": "cell",
                            "classification": {"name": "Tumor"},
                        },
                    },
                ],
            },
        },
        {
            "type": "Feature",
            "geometry": _square(70, 50, 10),
            "properties": {
                "objectType": "annotation",
                "classification": {"name": "dyskeratotic"},
            },
        },
    ]
    path = tmp_path / "003.bmp.geojson"
    path.write_text(json.dumps(features))

    summary = import_geojson(empty_copy, path)

    assert summary.cells_added == 3
    cells = Dataset.open(empty_copy).image("im_Koilocytotic/003").cells
    assert [cell.class_name for cell in cells] == [
        "koilocytotic",
        "koilocytotic",
        "dyskeratotic",
    ]
    assert [Polygon(cell.cytoplasm).area for cell in cells] == [900, 400, 100]
    assert Polygon(cells[0].nucleus).area == 64
    assert cells[1].nucleus is None and cells[2].nucleus is None
    warnings = " | ".join(summary.warnings)
    assert "'Tumor'" in warnings
    assert "1 objects are not cells" in warnings
    assert "no classification" in warnings


def test_import_reports_files_that_match_no_image(empty_copy, tmp_path):
    folder = tmp_path / "qupath"
    folder.mkdir()
    (folder / "slide-42.geojson").write_text(
        '{"type": "FeatureCollection", "features": []}'
    )

    summary = import_geojson(empty_copy, folder)

    assert summary.cells_added == 0
    assert len(summary.warnings) == 1
    assert "slide-42.geojson: matches no image" in summary.warnings[0]
