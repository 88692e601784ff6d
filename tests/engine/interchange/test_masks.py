"""Labelled mask PNGs: 16-bit cell and nucleus masks and the index-to-class map."""

from __future__ import annotations

import csv

import cv2
import numpy as np

from engine.annotations import Dataset
from engine.annotations.interchange import export_masks


def _read(path):
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_masks_hold_cell_indices_later_cells_on_top(dataset_root, tmp_path):
    summary = export_masks(Dataset.open(dataset_root), tmp_path / "masks")

    assert summary.images == 3 and summary.cells == 6
    cells = _read(tmp_path / "masks/im_Parabasal__001_cells.png")
    nuclei = _read(tmp_path / "masks/im_Parabasal__001_nuclei.png")
    assert cells.dtype == np.uint16 and cells.shape == (90, 120)
    assert nuclei.dtype == np.uint16
    assert cells[0, 0] == 0
    assert cells[15, 15] == 1  # only cell 1
    assert cells[55, 70] == 2  # only cell 2
    assert cells[30, 45] == 2  # cells 1 and 2 overlap; 2 was drawn later
    assert cells[68, 98] == 3
    assert nuclei[30, 30] == 1 and nuclei[40, 60] == 2 and nuclei[15, 15] == 0
    assert set(np.unique(cells)) == {0, 1, 2, 3}


def test_a_cell_without_nucleus_is_absent_from_the_nucleus_mask(dataset_root, tmp_path):
    export_masks(Dataset.open(dataset_root), tmp_path)

    cells = _read(tmp_path / "im_Koilocytotic__003_cells.png")
    nuclei = _read(tmp_path / "im_Koilocytotic__003_nuclei.png")
    assert cells[20, 20] == 1
    assert set(np.unique(nuclei)) == {0, 2}


def test_labels_csv_maps_every_index_to_its_class(dataset_root, tmp_path):
    export_masks(Dataset.open(dataset_root), tmp_path)

    with open(tmp_path / "labels.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 6
    reviewed = [
        r for r in rows if r["image"] == "im_Parabasal/001" and r["label"] == "3"
    ]
    assert reviewed[0]["class"] == "dyskeratotic"
    assert reviewed[0]["group"] == "abnormal"
    assert reviewed[0]["cells_mask"] == "im_Parabasal__001_cells.png"
    cropped = [r for r in rows if r["image"] == "im_Metaplastic/CROPPED/005_01"]
    assert cropped[0]["group"] == "benign"
    assert (tmp_path / cropped[0]["nuclei_mask"]).is_file()
