"""`cervix import`: converting the real samples end to end, and clear refusals."""

from __future__ import annotations

import importlib.util
import json

import pytest

from engine.annotations import Dataset
from engine.cli import main


def test_cervix_import_herlev_converts_and_prints_the_report(
    herlev_source, tmp_path, capsys
):
    destination = tmp_path / "herlev"

    status = main(["import", "herlev", str(herlev_source), str(destination)])

    printed = capsys.readouterr().out
    dataset = Dataset.open(destination)
    assert status == 0
    assert dataset.problems == []
    assert dataset.cell_count() == 5
    assert f"{dataset.cell_count()} cells" in printed
    assert "carcinoma_in_situ" in printed
    assert "warnings:" in printed and "touches the background" in printed


def test_cervix_import_isbi2014_finds_the_truth_file_a_folder_down(
    isbi_source, tmp_path, capsys
):
    destination = tmp_path / "isbi"
    challenge_folder = isbi_source.parent  # holds synthetic/ and edf/

    status = main(
        ["import", "isbi2014", str(challenge_folder), str(destination), "--json"]
    )

    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["format"] == "isbi2014"
    assert report["cells"] == {"cell": Dataset.open(destination).cell_count()}


def test_a_source_of_the_wrong_kind_fails_with_a_clear_message(
    herlev_source, tmp_path, capsys
):
    status = main(["import", "isbi2014", str(herlev_source), str(tmp_path / "out")])

    error = capsys.readouterr().err
    assert status == 1
    assert str(herlev_source) in error and "isbi_train_GT.mat" in error
    assert not (tmp_path / "out").exists()


def test_a_destination_with_files_is_refused(herlev_source, tmp_path, capsys):
    destination = tmp_path / "taken"
    destination.mkdir()
    (destination / "001.bmp").write_bytes(b"someone's image")

    status = main(["import", "herlev", str(herlev_source), str(destination)])

    assert status == 1
    assert "already holds files" in capsys.readouterr().err
    assert (destination / "001.bmp").read_bytes() == b"someone's image"


@pytest.mark.skipif(
    importlib.util.find_spec("engine.annotations.interchange.coco") is None,
    reason="the COCO interchange module is not in this checkout",
)
def test_cervix_import_coco_adds_cells_to_an_imported_dataset(
    isbi_source, tmp_path, capsys
):
    dataset_root = tmp_path / "isbi"
    assert main(["import", "isbi2014", str(isbi_source), str(dataset_root)]) == 0
    before = Dataset.open(dataset_root).image("im_cell/001")
    coco = {
        "images": [
            {"id": 1, "file_name": before.path.relative_to(dataset_root).as_posix()}
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": [[400, 400, 440, 400, 440, 440, 400, 440]],
            }
        ],
        "categories": [{"id": 1, "name": "cell"}],
    }
    coco_path = tmp_path / "cells.json"
    coco_path.write_text(json.dumps(coco))
    capsys.readouterr()

    status = main(["import", "coco", str(dataset_root), str(coco_path)])

    assert status == 0
    assert "added" in capsys.readouterr().out
    after = Dataset.open(dataset_root).image("im_cell/001")
    assert len(after.cells) == len(before.cells) + 1


@pytest.mark.skipif(
    importlib.util.find_spec("engine.annotations.interchange.geojson") is None,
    reason="the GeoJSON interchange module is not in this checkout",
)
def test_cervix_import_geojson_takes_the_dataset_first(isbi_source, tmp_path, capsys):
    from engine.annotations.interchange.geojson import export_geojson

    exported_root, target_root = tmp_path / "exported", tmp_path / "target"
    for root in (exported_root, target_root):
        assert main(["import", "isbi2014", str(isbi_source), str(root)]) == 0
    export_geojson(Dataset.open(exported_root), tmp_path / "geojson")
    for path in (target_root / "im_cell" / "im_cell").glob("001_*02.dat"):
        path.unlink()
    capsys.readouterr()

    status = main(["import", "geojson", str(target_root), str(tmp_path / "geojson")])

    assert status == 0
    assert "added" in capsys.readouterr().out
    assert len(Dataset.open(target_root).image("im_cell/001").cells) == 2
