"""Splits go by cluster image: a cell never sits on another side than its image."""

from __future__ import annotations

import shutil
from collections import defaultdict

import pytest

from engine.annotations import Dataset, ImageKind
from engine.training import TooFewImagesError, split_dataset
from engine.training.splits import class_folder, cluster_stem


def test_no_cluster_image_has_cells_on_two_sides(synthetic):
    split = split_dataset(synthetic, seed=0)
    sides_of_image = defaultdict(set)
    for image in synthetic.images:
        sides_of_image[(class_folder(image), cluster_stem(image))].add(
            split.side_of(image)
        )
    cropped = [image for image in synthetic.images if image.kind is ImageKind.CROPPED]
    assert cropped, "the sample must have CROPPED cells for this test to mean much"
    assert all(len(sides) == 1 for sides in sides_of_image.values())
    assert None not in {side for sides in sides_of_image.values() for side in sides}

    # A cropped cell 001_02 goes where cluster image 001 of its class goes.
    cell = next(image for image in cropped if image.stem.startswith("002_"))
    cluster = synthetic.image(f"{class_folder(cell)}/002")
    assert split.side_of(cell) == split.side_of(cluster)


def test_every_class_is_on_every_side_and_the_seed_fixes_the_split(synthetic):
    split = split_dataset(synthetic, seed=0)
    for side in ("train", "validation", "test"):
        folders = {group.split("/")[0] for group in getattr(split, side)}
        assert len(folders) == 5, side
    assert len(split.train) == 10 and len(split.test) == 5

    assert split_dataset(synthetic, seed=0).to_json() == split.to_json()
    others = [split_dataset(synthetic, seed=s).to_json()["test"] for s in range(1, 6)]
    assert any(test != split.test for test in others)


def test_a_class_with_too_few_images_says_how_many_are_needed(synthetic_copy):
    folder = synthetic_copy / "im_Parabasal" / "im_Parabasal"
    for path in folder.glob("00[34]*"):
        path.unlink()
    shutil.rmtree(folder / "CROPPED")
    dataset = Dataset.open(synthetic_copy)

    with pytest.raises(TooFewImagesError) as error:
        split_dataset(dataset)
    message = error.value.user_message()
    assert "im_Parabasal" in message
    assert "has 2 cluster image(s)" in message and "at least 3" in message

    # Without validation and test splits, two images are enough.
    split = split_dataset(dataset, val_fraction=0, test_fraction=0)
    assert not split.validation and not split.test
