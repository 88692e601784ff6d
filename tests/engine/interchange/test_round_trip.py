"""Export then import into a copy without annotations gives back the same cells."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engine.annotations import Dataset
from engine.annotations.interchange import (
    export_coco,
    export_geojson,
    import_coco,
    import_geojson,
)


def cells_of(dataset) -> dict[str, list[tuple]]:
    """Every image's cells as (class, cytoplasm, nucleus), in cell order."""
    return {
        image.key: [
            (cell.class_name, cell.cytoplasm, cell.nucleus) for cell in image.cells
        ]
        for image in dataset.images
    }


def assert_same_cells(expected, actual) -> None:
    assert expected.keys() == actual.keys()
    for key in expected:
        assert len(expected[key]) == len(actual[key]), key
        for (class_a, cyt_a, nuc_a), (class_b, cyt_b, nuc_b) in zip(
            expected[key], actual[key], strict=True
        ):
            assert class_a == class_b, key
            np.testing.assert_allclose(cyt_a, cyt_b, rtol=0, atol=1e-9)
            assert (nuc_a is None) == (nuc_b is None), key
            if nuc_a is not None:
                np.testing.assert_allclose(nuc_a, nuc_b, rtol=0, atol=1e-9)


def _coco(dataset, tmp_path, target_root):
    path = export_coco(dataset, tmp_path / "cells.json").files[0]
    return import_coco(target_root, path)


def _geojson(dataset, tmp_path, target_root):
    export_geojson(dataset, tmp_path / "geojson")
    return import_geojson(target_root, tmp_path / "geojson")


@pytest.mark.parametrize("round_trip", [_coco, _geojson], ids=["coco", "geojson"])
def test_export_then_import_gives_back_the_same_cells(
    round_trip, dataset_root, empty_copy, tmp_path
):
    original = Dataset.open(dataset_root)
    assert Dataset.open(empty_copy).cell_count() == 0

    summary = round_trip(original, tmp_path, empty_copy)

    assert summary.cells_added == original.cell_count() == 6
    assert summary.images == 3
    assert summary.warnings == [] and summary.errors == []
    reopened = Dataset.open(empty_copy)
    assert reopened.problems == []
    assert_same_cells(cells_of(original), cells_of(reopened))
    # The decimal outline is written exactly, whole-number ones stay integers.
    dat = empty_copy / "im_Parabasal/im_Parabasal/001_cyt03.dat"
    assert "92.5,55.25" in dat.read_text()
    assert (empty_copy / "im_Parabasal/im_Parabasal/001_cyt01.dat").read_text() == (
        "10,10\n50,10\n50,50\n10,50\n"
    )


@pytest.mark.parametrize("round_trip", [_coco, _geojson], ids=["coco", "geojson"])
def test_importing_the_same_file_twice_adds_nothing_the_second_time(
    round_trip, dataset_root, empty_copy, tmp_path
):
    original = Dataset.open(dataset_root)
    round_trip(original, tmp_path, empty_copy)

    again = round_trip(original, tmp_path, empty_copy)

    assert again.cells_added == 0
    assert any("already in the dataset" in warning for warning in again.warnings)
    assert Dataset.open(empty_copy).cell_count() == original.cell_count()


def test_import_into_a_dataset_with_cells_adds_them_under_new_indices(
    dataset_root, tmp_path
):
    original = Dataset.open(dataset_root)
    shifted = Dataset.open(dataset_root)
    for _, cell in shifted.cells():
        cell.cytoplasm = cell.cytoplasm + 3.0
        if cell.nucleus is not None:
            cell.nucleus = cell.nucleus + 3.0
    path = export_coco(shifted, tmp_path / "shifted.json").files[0]

    summary = import_coco(dataset_root, path)

    # Every cell but the cropped one: a cropped image holds exactly one cell.
    assert summary.cells_added == 5
    assert any("cropped cell image" in warning for warning in summary.warnings)
    reopened = Dataset.open(dataset_root)
    image = reopened.image("im_Koilocytotic/003")
    assert [cell.index for cell in image.cells] == [1, 2, 3, 4]
    before = original.image("im_Koilocytotic/003").cell(1)
    np.testing.assert_allclose(image.cell(3).cytoplasm, before.cytoplasm + 3)
    assert image.cell(3).nucleus is None
    assert reopened.image("im_Parabasal/001").cell(6).class_name == "dyskeratotic"


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    from engine.synthetic import make_dataset

    out = tmp_path_factory.mktemp("synthetic") / "sample"
    return make_dataset(out, images_per_class=1, seed=3, image_size=(256, 192))


@pytest.mark.parametrize("round_trip", [_coco, _geojson], ids=["coco", "geojson"])
def test_the_synthetic_sample_survives_a_round_trip(
    round_trip, synthetic_root, tmp_path
):
    original = Dataset.open(synthetic_root)
    copy = tmp_path / "copy"
    shutil.copytree(
        synthetic_root,
        copy,
        ignore=shutil.ignore_patterns("*.dat", "labels", "backups"),
    )

    summary = round_trip(original, tmp_path, copy)

    assert summary.errors == [] and summary.warnings == []
    assert summary.cells_added == original.cell_count() > 20
    reopened = Dataset.open(copy)
    assert reopened.problems == []
    assert_same_cells(cells_of(original), cells_of(reopened))
