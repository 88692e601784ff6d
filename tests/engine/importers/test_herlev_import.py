"""Herlev imports: the real samples open as a dataset whose outlines redraw the
masks, and imperfect masks are worked around and reported, never fatal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import Polygon

from engine.annotations import Dataset
from engine.annotations.errors import ImportFormatError
from engine.annotations.importers import (
    DestinationNotEmptyError,
    ImportReport,
    import_herlev,
)
from engine.annotations.importers.herlev import read_labels

HERLEV_NAMES = (
    "normal_superficiel",
    "normal_intermediate",
    "normal_columnar",
    "light_dysplastic",
    "moderate_dysplastic",
    "severe_dysplastic",
    "carcinoma_in_situ",
)


@pytest.fixture(scope="module")
def imported_samples(
    herlev_source: Path, tmp_path_factory
) -> tuple[Path, ImportReport]:
    destination = tmp_path_factory.mktemp("herlev") / "dataset"
    return destination, import_herlev(herlev_source, destination)


def _origins(destination: Path) -> dict[str, str]:
    record = json.loads((destination / ".cervix" / "import.json").read_text())
    return record["origins"]


def test_every_sample_opens_as_a_cropped_cell_of_its_herlev_class(
    herlev_source, imported_samples
):
    destination, report = imported_samples
    source_classes = sorted(p.name for p in herlev_source.iterdir() if p.is_dir())

    dataset = Dataset.open(destination)

    assert dataset.problems == []
    assert dataset.settings.source == "herlev"
    assert dataset.scheme.names == HERLEV_NAMES
    assert {c.name for c in dataset.scheme.classes if c.group == "abnormal"} == {
        "light_dysplastic",
        "moderate_dysplastic",
        "severe_dysplastic",
        "carcinoma_in_situ",
    }
    assert report.images == len(dataset.images) == len(source_classes)
    origins = _origins(destination)
    for image, cell in dataset.cells():
        source_class = origins[image.path.relative_to(destination).as_posix()]
        assert cell.class_name == source_class.split("/")[0]
        assert image.kind.value == "cropped"
        assert cell.nucleus is not None
    assert report.cells == {name: int(name in source_classes) for name in HERLEV_NAMES}


def test_outlines_draw_back_the_herlev_masks(herlev_source, imported_samples, masks):
    destination, _ = imported_samples
    origins = _origins(destination)
    scores = {}

    for image, cell in Dataset.open(destination).cells():
        source_image = (
            herlev_source / origins[image.path.relative_to(destination).as_posix()]
        )
        labels = read_labels(source_image.with_name(f"{source_image.stem}-d.bmp"))
        whole_cell = (labels == 2) | (labels == 3)
        nucleus = labels == 2
        scores[image.key] = (
            masks.dice(masks.drawn(cell.cytoplasm, labels.shape), whole_cell),
            masks.dice(masks.drawn(cell.nucleus, labels.shape), nucleus),
        )
        assert Polygon(cell.cytoplasm).covers(Polygon(cell.nucleus))
        with Image.open(source_image) as original, Image.open(image.path) as copy:
            assert copy.format == "BMP"
            assert np.array_equal(np.asarray(original), np.asarray(copy))

    assert scores
    for key, (cytoplasm_dice, nucleus_dice) in scores.items():
        assert cytoplasm_dice >= 0.98, (key, cytoplasm_dice)
        assert nucleus_dice >= 0.98, (key, nucleus_dice)


def test_a_nucleus_reaching_the_background_is_reported_in_the_real_sample(
    herlev_source, imported_samples
):
    _, report = imported_samples
    touching = [w for w in report.warnings if "touches the background" in w.message]

    assert touching
    assert all(w.path.parent.parent == herlev_source for w in touching)


# -- imperfect masks -----------------------------------------------------------


def _round_cell(masks, nucleus_centre=(20, 20), nucleus_radius=5) -> np.ndarray:
    labels = np.full((40, 40), 4, dtype=np.uint8)
    labels[masks.disk(labels.shape, (20, 20), 14)] = 3
    labels[masks.disk(labels.shape, nucleus_centre, nucleus_radius)] = 2
    return labels


@pytest.fixture
def imperfect_source(tmp_path, masks, write_herlev_cell) -> Path:
    source = tmp_path / "herlev"
    touching = _round_cell(masks, nucleus_centre=(32, 20))
    write_herlev_cell(source / "normal_columnar", "touching", touching)

    two_nuclei = _round_cell(masks, nucleus_centre=(15, 20))
    two_nuclei[masks.disk(two_nuclei.shape, (28, 20), 2)] = 2
    write_herlev_cell(source / "light_dysplastic", "two_nuclei", two_nuclei)

    enclosed_background = _round_cell(masks, nucleus_radius=4)
    enclosed_background[24:27, 12:15] = 4
    write_herlev_cell(source / "severe_dysplastic", "enclosed", enclosed_background)

    spanning = np.full((40, 40), 4, dtype=np.uint8)
    spanning[12:28, :] = 3
    spanning[masks.disk(spanning.shape, (20, 20), 5)] = 2
    write_herlev_cell(source / "severe_dysplastic", "spanning", spanning)

    stray = _round_cell(masks)
    stray[1:3, 36:38] = 3
    write_herlev_cell(source / "moderate_dysplastic", "stray", stray)

    empty = np.full((40, 40), 4, dtype=np.uint8)
    write_herlev_cell(source / "carcinoma_in_situ", "empty", empty)
    write_herlev_cell(source / "carcinoma_in_situ", "no_mask", stray)
    (source / "carcinoma_in_situ" / "no_mask-d.bmp").unlink()
    return source


def _messages(report: ImportReport, name: str) -> list[str]:
    return [w.message for w in report.warnings if w.path.name.startswith(name)]


def test_imperfect_masks_are_imported_and_each_is_reported(
    imperfect_source, tmp_path, masks
):
    progress = []
    report = import_herlev(
        imperfect_source, tmp_path / "out", lambda done, total: progress.append(done)
    )

    assert progress == list(range(1, 8))
    assert report.cell_count == 5
    assert report.skipped == 2
    assert any("touches the background" in m for m in _messages(report, "touching"))
    assert any("nucleus is in 2 pieces" in m for m in _messages(report, "two_nuclei"))
    assert any("hole" in m for m in _messages(report, "enclosed"))
    assert any("cell is in 2 pieces" in m for m in _messages(report, "stray"))
    assert any("no cell" in m for m in _messages(report, "empty"))
    assert any("no mask" in m for m in _messages(report, "no_mask"))
    # A cell that spans the crop splits the background, which is normal in Herlev.
    assert _messages(report, "spanning") == []

    dataset = Dataset.open(tmp_path / "out")
    assert dataset.problems == []
    assert dataset.cell_count() == 5
    for _, cell in dataset.cells():
        assert Polygon(cell.cytoplasm).covers(Polygon(cell.nucleus))


def test_the_whole_cell_includes_a_nucleus_that_reaches_the_background(
    imperfect_source, tmp_path, masks
):
    import_herlev(imperfect_source, tmp_path / "out")
    image = Dataset.open(tmp_path / "out").images
    cell = next(
        image.cells[0] for image in image if image.folder_class == "normal_columnar"
    )
    labels = _round_cell(masks, nucleus_centre=(32, 20))

    whole_cell = masks.drawn(cell.cytoplasm, labels.shape)

    assert whole_cell[labels == 2].all()
    assert masks.dice(whole_cell, labels != 4) >= 0.98


def test_of_a_nucleus_in_two_pieces_the_largest_is_kept(
    imperfect_source, tmp_path, masks
):
    import_herlev(imperfect_source, tmp_path / "out")
    cell = next(
        image.cells[0]
        for image in Dataset.open(tmp_path / "out").images
        if image.folder_class == "light_dysplastic"
    )
    larger_piece = masks.disk((40, 40), (15, 20), 5)

    assert masks.dice(masks.drawn(cell.nucleus, (40, 40)), larger_piece) >= 0.98


def test_a_mask_saved_as_rgb_is_read_by_its_colours(tmp_path, masks, write_herlev_cell):
    labels = _round_cell(masks)
    write_herlev_cell(tmp_path / "src" / "normal_intermediate", "cell", labels)
    mask_path = tmp_path / "src" / "normal_intermediate" / "cell-d.bmp"
    Image.open(mask_path).convert("RGB").save(mask_path, format="BMP")

    assert np.array_equal(read_labels(mask_path), labels)


# -- refusals ------------------------------------------------------------------


def test_a_folder_without_herlev_classes_is_refused(tmp_path):
    (tmp_path / "src" / "pictures").mkdir(parents=True)

    with pytest.raises(ImportFormatError, match="no Herlev class folder"):
        import_herlev(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_destination_with_files_is_never_written_to(imperfect_source, tmp_path):
    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "notes.txt").write_text("mine")

    with pytest.raises(DestinationNotEmptyError, match="already holds files"):
        import_herlev(imperfect_source, destination)
    assert [p.name for p in destination.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_empty_destination_folder_is_used(imperfect_source, tmp_path):
    destination = tmp_path / "out"
    destination.mkdir()

    report = import_herlev(imperfect_source, destination)

    assert Dataset.open(destination).cell_count() == report.cell_count == 5
