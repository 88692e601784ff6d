"""COCO export loads in pycocotools; COCO import reports what it cannot take."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from shapely.geometry import Polygon

from engine.annotations import Dataset
from engine.annotations.errors import ImportFormatError
from engine.annotations.interchange import export_coco, import_coco


@pytest.fixture
def coco_path(dataset_root, tmp_path):
    return export_coco(
        Dataset.open(dataset_root), tmp_path / "out" / "cells.json"
    ).files[0]


def test_export_loads_with_pycocotools_and_masks_match_the_outlines(
    coco_path, dataset_root
):
    coco = COCO(str(coco_path))

    assert len(coco.getImgIds()) == 3
    assert len(coco.getAnnIds()) == 6
    categories = {
        c["name"]: c["supercategory"] for c in coco.loadCats(coco.getCatIds())
    }
    assert categories["parabasal"] == "normal"
    assert categories["metaplastic"] == "benign"
    assert categories["dyskeratotic"] == "abnormal"
    for image in coco.loadImgs(coco.getImgIds()):
        assert (dataset_root / image["file_name"]).is_file()
        for annotation in coco.loadAnns(coco.getAnnIds(imgIds=image["id"])):
            mask = coco.annToMask(annotation)
            assert mask.shape == (image["height"], image["width"])
            outline = Polygon(np.reshape(annotation["segmentation"][0], (-1, 2)))
            centre = outline.representative_point()
            assert mask[int(centre.y), int(centre.x)] == 1
            # The rasterised mask covers the polygon, give or take its border.
            assert abs(mask.sum() - annotation["area"]) <= outline.length
            assert annotation["iscrowd"] == 0


def test_export_keeps_nucleus_cell_index_and_reviewed_class(coco_path):
    coco = COCO(str(coco_path))
    by_name = {image["file_name"]: image["id"] for image in coco.dataset["images"]}
    names = {c["id"]: c["name"] for c in coco.dataset["categories"]}

    parabasal = coco.loadAnns(
        coco.getAnnIds(imgIds=by_name["im_Parabasal/im_Parabasal/001.bmp"])
    )
    assert [a["cell_index"] for a in parabasal] == [1, 2, 3]
    assert [names[a["category_id"]] for a in parabasal] == [
        "parabasal",
        "parabasal",
        "dyskeratotic",
    ]
    assert parabasal[0]["nucleus"] == [[24, 24, 36, 24, 36, 36, 24, 36]]
    assert parabasal[0]["bbox"] == [10, 10, 40, 40]
    assert parabasal[0]["area"] == 1600

    koilocytotic = coco.loadAnns(
        coco.getAnnIds(imgIds=by_name["im_Koilocytotic/im_Koilocytotic/003.bmp"])
    )
    assert koilocytotic[0]["nucleus"] is None


def test_import_reports_unknown_classes_and_images_and_takes_the_rest(
    coco_path, empty_copy
):
    document = json.loads(coco_path.read_text())
    document["categories"].append({"id": 99, "name": "carcinoma", "supercategory": "x"})
    document["annotations"][0]["category_id"] = 99
    document["images"].append(
        {"id": 50, "file_name": "elsewhere/404.bmp", "width": 9, "height": 9}
    )
    document["annotations"].append(
        dict(document["annotations"][1], id=500, image_id=50)
    )
    coco_path.write_text(json.dumps(document))

    summary = import_coco(empty_copy, coco_path)

    assert summary.cells_added == 5
    assert any("'carcinoma'" in warning for warning in summary.warnings)
    assert any("'elsewhere/404.bmp'" in warning for warning in summary.warnings)
    assert Dataset.open(empty_copy).cell_count() == 5


def test_import_takes_other_tools_files_by_bare_file_name_and_rle_masks(
    empty_copy, tmp_path
):
    from pycocotools import mask as coco_mask

    square = np.zeros((80, 100), dtype=np.uint8)
    square[30:61, 50:91] = 1
    rle = coco_mask.encode(np.asfortranarray(square))
    rle["counts"] = rle["counts"].decode("ascii")
    document = {
        "images": [{"id": 7, "file_name": "003.bmp", "width": 100, "height": 80}],
        "categories": [{"id": 1, "name": "Koilocytotic"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "segmentation": rle},
            {
                "id": 2,
                "image_id": 7,
                "category_id": 1,
                "segmentation": [[5, 5, 30, 8, 35, 30, 12, 40]],
            },
        ],
    }
    path = tmp_path / "other-tool.json"
    path.write_text(json.dumps(document))

    summary = import_coco(empty_copy, path)

    assert summary.cells_added == 2, summary.warnings
    cells = Dataset.open(empty_copy).image("im_Koilocytotic/003").cells
    assert [cell.class_name for cell in cells] == ["koilocytotic", "koilocytotic"]
    assert Polygon(cells[0].cytoplasm).area == pytest.approx(40 * 30)
    assert cells[1].nucleus is None


def test_import_of_a_file_that_is_not_coco_names_the_file(empty_copy, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(ImportFormatError, match="broken.json:2: is not valid JSON"):
        import_coco(empty_copy, broken)

    geojson = tmp_path / "cells.json"
    geojson.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(ImportFormatError, match="is not a COCO instance file"):
        import_coco(empty_copy, geojson)


def test_import_leaves_invalid_outlines_out(coco_path, empty_copy):
    document = json.loads(coco_path.read_text())
    document["annotations"][0]["segmentation"] = [[0, 0, 10, 10, 10, 0, 0, 10]]
    document["annotations"][1]["nucleus"] = [[0, 0, 5, 0, 5, 5, 0, 5]]
    coco_path.write_text(json.dumps(document))

    summary = import_coco(empty_copy, coco_path)

    assert summary.cells_added == 4
    assert any("not a valid polygon" in warning for warning in summary.warnings)
    assert any("outside the cell" in warning for warning in summary.warnings)
    assert Dataset.open(empty_copy).problems == []
