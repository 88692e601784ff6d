"""The per-cell measurements CSV."""

from __future__ import annotations

import csv

import pytest

from engine.annotations import Dataset
from engine.annotations.interchange import export_csv


def _rows(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def test_one_row_per_cell_with_measurements(dataset_root, tmp_path):
    summary = export_csv(Dataset.open(dataset_root), tmp_path / "cells.csv")

    assert summary.cells == 6 and summary.warnings == []
    rows = _rows(tmp_path / "cells.csv")
    assert list(rows[0]) == [
        "image",
        "index",
        "class",
        "group",
        "area_px2",
        "perimeter_px",
        "nucleus_area_px2",
        "nc_ratio",
        "circularity",
        "mean_nuclear_intensity",
    ]
    by_cell = {(row["image"], row["index"]): row for row in rows}
    first = by_cell["im_Parabasal/001", "1"]
    assert first["class"] == "parabasal" and first["group"] == "normal"
    assert float(first["area_px2"]) == 1600
    assert float(first["perimeter_px"]) == 160
    assert float(first["nucleus_area_px2"]) == 144
    assert float(first["nc_ratio"]) == pytest.approx(144 / 1456, abs=1e-4)
    assert float(first["circularity"]) == pytest.approx(3.14159 / 4, abs=1e-4)
    # Nuclei were painted grey 60 on grey 170 cells.
    assert float(first["mean_nuclear_intensity"]) == pytest.approx(60, abs=0.5)
    assert by_cell["im_Parabasal/001", "3"]["class"] == "dyskeratotic"


def test_a_cell_without_nucleus_leaves_nucleus_columns_empty(dataset_root, tmp_path):
    export_csv(Dataset.open(dataset_root), tmp_path / "cells.csv")

    row = {(r["image"], r["index"]): r for r in _rows(tmp_path / "cells.csv")}[
        "im_Koilocytotic/003", "1"
    ]
    assert row["nucleus_area_px2"] == row["nc_ratio"] == ""
    assert row["mean_nuclear_intensity"] == ""
    assert float(row["area_px2"]) > 0


def test_microns_per_pixel_scales_areas_and_lengths(dataset_root, tmp_path):
    export_csv(Dataset.open(dataset_root), tmp_path / "um.csv", microns_per_pixel=0.5)

    row = _rows(tmp_path / "um.csv")[-1]
    assert "area_um2" in row and "perimeter_um" in row
    first = {(r["image"], r["index"]): r for r in _rows(tmp_path / "um.csv")}[
        "im_Parabasal/001", "1"
    ]
    assert float(first["area_um2"]) == 400
    assert float(first["perimeter_um"]) == 80
    assert float(first["nc_ratio"]) == pytest.approx(144 / 1456, abs=1e-4)
