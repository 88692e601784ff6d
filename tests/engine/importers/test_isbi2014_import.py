"""ISBI 2014 imports: the real training images open as a dataset whose outlines
redraw the truth masks, and every nucleus goes to the cell that holds it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io
from PIL import Image
from shapely.geometry import Polygon

from engine.annotations import Dataset
from engine.annotations.errors import ImportFormatError
from engine.annotations.importers import ImportReport, import_isbi2014
from engine.annotations.importers.isbi2014 import TRUTH_FILE, read_truth


@pytest.fixture(scope="module")
def imported_samples(isbi_source: Path, tmp_path_factory) -> tuple[Path, ImportReport]:
    destination = tmp_path_factory.mktemp("isbi") / "dataset"
    return destination, import_isbi2014(isbi_source, destination)


def test_the_training_images_present_open_as_one_class_of_cells(
    isbi_source, imported_samples
):
    destination, report = imported_samples
    cells, _, counts = read_truth(isbi_source / TRUTH_FILE)
    present = sorted(int(p.stem) for p in isbi_source.glob("*.tif"))

    dataset = Dataset.open(destination)

    assert dataset.problems == []
    assert dataset.settings.source == "isbi2014"
    assert [(c.name, c.group) for c in dataset.scheme.classes] == [("cell", "normal")]
    assert [image.key for image in dataset.images] == [
        f"im_cell/{number:03d}" for number in present
    ]
    for image in dataset.images:
        number = int(image.stem)
        assert len(image.cells) == len(cells[number - 1]) == counts[number - 1]
        assert all(cell.nucleus is not None for cell in image.cells)
    assert report.cells == {"cell": dataset.cell_count()}
    assert report.warnings == []


def test_the_cluster_images_keep_their_grey_values_in_three_channels(
    isbi_source, imported_samples
):
    destination, _ = imported_samples

    for image in Dataset.open(destination).images:
        with Image.open(isbi_source / f"{int(image.stem)}.tif") as original:
            grey = np.asarray(original)
        with Image.open(image.path) as converted:
            assert converted.format == "BMP"
            rgb = np.asarray(converted)
        assert rgb.shape == (*grey.shape, 3)
        for channel in range(3):
            assert np.array_equal(rgb[:, :, channel], grey)


def test_outlines_draw_back_the_truth_masks(isbi_source, imported_samples, masks):
    destination, _ = imported_samples
    cells, nuclei, _ = read_truth(isbi_source / TRUTH_FILE)
    scores = {}

    for image in Dataset.open(destination).images:
        number = int(image.stem)
        count, nucleus_labels = cv2.connectedComponents(
            nuclei[number - 1].astype(np.uint8), connectivity=8
        )
        for cell in image.cells:
            cell_mask = cells[number - 1][cell.index - 1]
            nucleus_drawn = masks.drawn(cell.nucleus, cell_mask.shape)
            # The truth nucleus this outline came from: the piece it covers most.
            piece = np.bincount(nucleus_labels[nucleus_drawn], minlength=count)[1:]
            nucleus_mask = nucleus_labels == int(np.argmax(piece)) + 1
            scores[(number, cell.index)] = (
                masks.dice(masks.drawn(cell.cytoplasm, cell_mask.shape), cell_mask),
                masks.dice(nucleus_drawn, nucleus_mask),
            )
            # The nucleus went to the cell that holds it.
            assert cell_mask[nucleus_mask].mean() > 0.9
            assert Polygon(cell.cytoplasm).covers(Polygon(cell.nucleus))

    assert len(scores) == 6
    for key, (cytoplasm_dice, nucleus_dice) in scores.items():
        assert cytoplasm_dice >= 0.98, (key, cytoplasm_dice)
        assert nucleus_dice >= 0.98, (key, nucleus_dice)


# -- a small hand-made training set --------------------------------------------


def _disk(centre, radius, shape=(64, 64)) -> np.ndarray:
    canvas = np.zeros(shape, dtype=np.uint8)
    cv2.circle(canvas, centre, radius, 1, -1)
    return canvas


def _cell_array(masks: list[np.ndarray]) -> np.ndarray:
    array = np.empty((len(masks), 1), dtype=object)
    for row, mask in enumerate(masks):
        array[row, 0] = mask
    return array


def _write_training_set(folder: Path, images: list[tuple[list, np.ndarray]]) -> Path:
    """Write `isbi_train_GT.mat` as the challenge does (MATLAB cell arrays of
    masks) and a grey `N.tif` for each image."""
    folder.mkdir(parents=True)
    scipy.io.savemat(
        folder / TRUTH_FILE,
        {
            "train_Cytoplasm": _cell_array([_cell_array(c) for c, _ in images]),
            "train_Nuclei": _cell_array([n for _, n in images]),
            "CellNum": np.array([[len(c)] for c, _ in images], dtype=np.uint8),
            "OverlapRatio": np.zeros((len(images), 2)),
        },
    )
    for number, (cells, _) in enumerate(images, start=1):
        grey = (200 - 60 * np.clip(sum(cells), 0, 2)).astype(np.uint8)
        Image.fromarray(grey).save(folder / f"{number}.tif")
    return folder


@pytest.fixture
def training_set(tmp_path) -> Path:
    # Image 1: the left cell's nucleus lies where the two cells overlap; listed
    # first, the right cell would take it if each nucleus went to the first best.
    right, left = _disk((42, 32), 18), _disk((22, 32), 18)
    nuclei_1 = _disk((28, 32), 3) | _disk((52, 32), 3)
    # Image 2: a cell with two nuclei, a cell with none, a nucleus in no cell.
    two, none = _disk((18, 18), 14), _disk((46, 46), 12)
    nuclei_2 = _disk((14, 18), 4) | _disk((24, 18), 2) | _disk((58, 4), 3)
    # Image 3 has truth but no image file in the folder.
    folder = _write_training_set(
        tmp_path / "isbi",
        [([right, left], nuclei_1), ([two, none], nuclei_2), ([left], nuclei_1)],
    )
    (folder / "3.tif").unlink()
    return folder


def test_each_cell_gets_the_nucleus_inside_it_and_oddities_are_reported(
    training_set, tmp_path, masks
):
    report = import_isbi2014(training_set, tmp_path / "out")
    dataset = Dataset.open(tmp_path / "out")

    assert dataset.problems == []
    assert report.images == 2 and report.cell_count == 4 and report.nuclei == 3
    overlapping = dataset.image("im_cell/001")
    right, left = overlapping.cells
    assert masks.drawn(right.nucleus, (64, 64))[32, 52]
    assert masks.drawn(left.nucleus, (64, 64))[32, 28]

    two_nuclei, no_nucleus = dataset.image("im_cell/002").cells
    kept = masks.drawn(two_nuclei.nucleus, (64, 64))
    assert masks.dice(kept, _disk((14, 18), 4).astype(bool)) >= 0.98
    assert no_nucleus.nucleus is None
    assert not (training_set.parent / "out/im_cell/im_cell/002_nuc02.dat").exists()
    messages = [w.message for w in report.warnings]
    assert any("cell 1 contains 2 nuclei" in m for m in messages)
    assert any("lies in no cell" in m for m in messages)
    assert len(messages) == 2


def test_an_image_beyond_the_truth_file_is_skipped_and_reported(training_set, tmp_path):
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(training_set / "7.tif")

    report = import_isbi2014(training_set, tmp_path / "out")

    assert report.images == 2
    assert any(w.path.name == "7.tif" for w in report.warnings)


def test_a_folder_without_the_truth_file_is_refused(tmp_path, training_set):
    (training_set / TRUTH_FILE).unlink()

    with pytest.raises(ImportFormatError, match=TRUTH_FILE):
        import_isbi2014(training_set, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_mat_file_of_another_kind_is_refused(tmp_path):
    folder = tmp_path / "isbi"
    folder.mkdir()
    scipy.io.savemat(folder / TRUTH_FILE, {"something": np.zeros(3)})

    with pytest.raises(ImportFormatError, match="train_Cytoplasm"):
        import_isbi2014(folder, tmp_path / "out")
