"""The synthetic sample on disk: SIPaKMeD layout, exact outlines, same bytes."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon

from engine.annotations import Dataset, ImageKind
from engine.errors import CervixError
from engine.synthetic import make_dataset

CLASS_FOLDERS = (
    "im_Superficial-Intermediate",
    "im_Parabasal",
    "im_Metaplastic",
    "im_Koilocytotic",
    "im_Dyskeratotic",
)


def test_sample_opens_with_the_right_counts_and_no_problems(default_sample):
    dataset = Dataset.open(default_sample)

    assert dataset.problems == []
    assert dataset.settings.synthetic is True
    assert dataset.settings.source == "synthetic"
    assert dataset.scheme.names == (
        "superficial-intermediate",
        "parabasal",
        "metaplastic",
        "koilocytotic",
        "dyskeratotic",
    )
    clusters = [i for i in dataset.images if i.kind is ImageKind.CLUSTER]
    crops = [i for i in dataset.images if i.kind is ImageKind.CROPPED]
    assert len(clusters) == 20
    for folder in CLASS_FOLDERS:
        assert (default_sample / folder / folder / "001.bmp").is_file()
        assert (default_sample / folder / folder / "004.bmp").is_file()
    for image in clusters:
        assert 3 <= len(image.cells) <= 10, image.key
        assert image.size == (512, 384)
        assert all(cell.class_name == image.folder_class for cell in image.cells)
    assert len(crops) == sum(len(image.cells) for image in clusters)
    assert all(len(image.cells) == 1 for image in crops)


def test_sample_says_it_is_synthetic(default_sample):
    readme = (default_sample / "README.txt").read_text(encoding="utf-8")

    assert "SYNTHETIC" in readme
    assert "not real patient cells" in readme.lower()


def test_outlines_are_valid_inside_their_image_and_precise(default_sample):
    dataset = Dataset.open(default_sample)

    for image, cell in dataset.cells():
        width, height = image.size
        for vertices in (cell.cytoplasm, cell.nucleus):
            assert 20 <= len(vertices) <= 80, image.key
            assert Polygon(vertices).is_valid
            assert np.allclose(vertices, np.round(vertices, 1))
            assert vertices.min() >= 0
            assert vertices[:, 0].max() <= width - 1
            assert vertices[:, 1].max() <= height - 1
        assert Polygon(cell.cytoplasm).contains(Polygon(cell.nucleus)), image.key


def test_crops_hold_their_cell_in_the_crops_own_pixels(default_sample):
    dataset = Dataset.open(default_sample)
    clusters = {i.key: i for i in dataset.images if i.kind is ImageKind.CLUSTER}

    for crop in (i for i in dataset.images if i.kind is ImageKind.CROPPED):
        folder = crop.key.split("/")[0]
        stem, index = crop.stem.split("_")
        source = clusters[f"{folder}/{stem}"].cell(int(index))
        cell = crop.cells[0]
        offset = source.cytoplasm - cell.cytoplasm
        assert np.allclose(offset, np.round(offset[0]), atol=1e-6)
        assert cell.cytoplasm.min() >= 0
        assert cell.cytoplasm[:, 0].max() <= crop.size[0] - 1
        assert cell.cytoplasm[:, 1].max() <= crop.size[1] - 1


def _files(root):
    return {
        path.relative_to(root): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path):
    first = make_dataset(tmp_path / "a", images_per_class=1, seed=7)
    second = make_dataset(tmp_path / "b", images_per_class=1, seed=7)
    other = make_dataset(tmp_path / "c", images_per_class=1, seed=8)

    assert _files(first) == _files(second)
    image = "im_Parabasal/im_Parabasal/001.bmp"
    assert (first / image).read_bytes() != (other / image).read_bytes()


def test_no_cropped_and_other_size(tmp_path):
    out = make_dataset(
        tmp_path / "small", images_per_class=2, image_size=(320, 256), cropped=False
    )
    dataset = Dataset.open(out)

    assert dataset.problems == []
    assert len(dataset.images) == 10
    assert all(image.size == (320, 256) for image in dataset.images)
    assert not list(out.rglob("CROPPED"))


def test_refuses_a_folder_with_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")

    with pytest.raises(CervixError, match="not empty"):
        make_dataset(tmp_path, images_per_class=1)
    with pytest.raises(CervixError, match="not empty"):
        make_dataset(tmp_path, images_per_class=1, overwrite=True)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_overwrite_replaces_an_earlier_sample(tmp_path):
    make_dataset(tmp_path / "s", images_per_class=2, cropped=False)
    with pytest.raises(CervixError, match="--overwrite"):
        make_dataset(tmp_path / "s", images_per_class=1)

    make_dataset(tmp_path / "s", images_per_class=1, cropped=False, overwrite=True)

    assert len(Dataset.open(tmp_path / "s").images) == 5
