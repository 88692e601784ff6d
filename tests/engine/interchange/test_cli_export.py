"""`cervix export`: each format from the command line, and its errors."""

from __future__ import annotations

import json

import pytest

from engine.cli import main


@pytest.mark.parametrize(
    ("format_name", "out_name", "expected"),
    [
        ("coco", "cells.json", ["cells.json"]),
        ("csv", "cells.csv", ["cells.csv"]),
        ("geojson", "qupath", ["im_Parabasal__001.geojson"]),
        ("masks", "masks", ["im_Parabasal__001_cells.png", "labels.csv"]),
    ],
)
def test_export_prints_what_it_wrote(
    format_name, out_name, expected, dataset_root, tmp_path, capsys
):
    out = tmp_path / out_name

    status = main(
        ["export", str(dataset_root), "--format", format_name, "--out", str(out)]
    )

    assert status == 0
    printed = capsys.readouterr().out
    assert "Exported 6 cells of 3 images" in printed
    for name in expected:
        assert name in printed
        assert (out / name if out.suffix == "" else out).exists()


def test_coco_from_the_command_line_is_valid_json(dataset_root, tmp_path):
    out = tmp_path / "cells.json"
    assert (
        main(["export", str(dataset_root), "--format", "coco", "--out", str(out)]) == 0
    )
    assert len(json.loads(out.read_text())["annotations"]) == 6


def test_a_folder_that_is_not_a_dataset_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "holiday-photos").mkdir()

    status = main(
        [
            "export",
            str(tmp_path / "holiday-photos"),
            "--format",
            "coco",
            "--out",
            str(tmp_path / "out.json"),
        ]
    )

    assert status == 1
    error = capsys.readouterr().err
    assert "holiday-photos" in error and "holds no class folders" in error
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("format_name", ["coco", "csv", "geojson", "masks"])
def test_an_unwritable_out_is_a_clear_error(
    format_name, dataset_root, tmp_path, capsys
):
    # A path below a file can be written by nobody, not even root.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "export" / "cells.out"

    status = main(
        ["export", str(dataset_root), "--format", format_name, "--out", str(out)]
    )

    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith("cervix export: ") and "a-file" in error
    assert "cannot create the output folder" in error


def test_coco_out_that_is_a_folder_is_refused(dataset_root, tmp_path, capsys):
    status = main(
        ["export", str(dataset_root), "--format", "coco", "--out", str(tmp_path)]
    )
    assert status == 1
    assert "is a folder" in capsys.readouterr().err
