"""Prepared training data: cell crops, rasterised targets, aligned augmentation and
the cache."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.annotations import ImageKind
from engine.metrics.instances import polygon_masks
from engine.training import TrainingConfig
from engine.training.augment import (
    crop_augmentation,
    outline_augmentation,
    tile_augmentation,
)
from engine.training.data import ArrayCache, fill_polygons, make_loader, read_rgb
from engine.training.tasks import make_task
from engine.training.tasks.classifier import CropData, cell_crop, cells_to_classify


def test_each_cell_is_classified_once_from_its_cluster_image(synthetic):
    chosen = cells_to_classify(synthetic.images)
    clusters = [i for i in synthetic.images if i.kind is ImageKind.CLUSTER]
    assert len(chosen) == sum(len(image.cells) for image in clusters)
    assert all(image.kind is ImageKind.CLUSTER for image, _ in chosen)

    # A cropped cell without its cluster outline is still used.
    only_cropped = [i for i in synthetic.images if i.kind is ImageKind.CROPPED]
    assert len(cells_to_classify(only_cropped)) == len(only_cropped)


def test_a_cell_crop_is_square_centred_and_padded_at_the_border(synthetic):
    image = synthetic.images[0]
    pixels = read_rgb(image.path)
    for cell in image.cells:
        crop = cell_crop(pixels, cell, 48, margin=0.15)
        assert crop.shape == (48, 48, 3)
    # A cell at the image corner: the crop replicates the edge instead of failing.
    cell = image.cells[0]
    cell.cytoplasm = cell.cytoplasm - cell.cytoplasm.min(axis=0)
    assert cell_crop(pixels, cell, 48, margin=0.5).shape == (48, 48, 3)


def test_rasterised_outlines_match_the_metrics_masks(synthetic):
    image = next(i for i in synthetic.images if i.kind is ImageKind.CLUSTER)
    height, width = image.size[1], image.size[0]
    for cell in image.cells:
        ours = fill_polygons((height, width), [cell.cytoplasm]).astype(bool)
        theirs = polygon_masks([cell.cytoplasm], height, width)[0]
        overlap = (ours & theirs).sum() / max(1, (ours | theirs).sum())
        assert overlap > 0.85


def test_augmentation_moves_image_masks_and_outlines_together():
    outline = np.array([[10, 8], [50, 12], [55, 40], [20, 44], [8, 30]], float)
    image = np.zeros((48, 64, 3), np.uint8)
    image[fill_polygons((48, 64), [outline]) > 0] = 255
    mask = fill_polygons((48, 64), [outline])
    augmentation = outline_augmentation(seed=3)
    for _ in range(10):
        result = augmentation(
            image=image, mask=mask, keypoints=outline.astype(np.float32)
        )
        moved = np.asarray(result["keypoints"])
        drawn = fill_polygons(result["image"].shape[:2], [moved]).astype(bool)
        for other in (result["mask"].astype(bool), result["image"][..., 0] > 127):
            dice = 2 * (drawn & other).sum() / (drawn.sum() + other.sum())
            assert dice > 0.9

    tiles = tile_augmentation(32, seed=0)
    result = tiles(image=image, mask=np.dstack([mask, mask]))
    assert result["image"].shape == (32, 32, 3) and result["mask"].shape == (32, 32, 2)
    assert np.array_equal(result["mask"][..., 0] > 0, result["image"][..., 0] > 127)


def test_prepared_crops_are_cached_and_reused(synthetic, tmp_path):
    config = TrainingConfig(task="classifier", arch="tiny-cnn", image_size=32)
    cache = ArrayCache(tmp_path / "cache")
    first = make_task(config, synthetic)
    first.prepare(cache)
    assert len(list((tmp_path / "cache").glob("classifier-32-*/crops.npy"))) == 1

    calls = []
    original = cache.load_or_build

    def counting(name, key, build):
        return original(name, key, lambda: calls.append(name) or build())

    cache.load_or_build = counting
    second = make_task(config, synthetic)
    second.prepare(cache)
    assert calls == []  # read from the cache, not cut again
    assert np.array_equal(np.asarray(second.crops), np.asarray(first.crops))
    assert first.class_names == list(synthetic.scheme.names)


def test_each_loader_worker_draws_its_own_augmentations():
    crop = np.zeros((32, 32, 3), np.uint8)
    crop[:, :16] = 200  # left half bright: a flip or a turn shows
    crops = np.stack([crop] * 16)
    data = CropData(crops, np.zeros(16, np.int64), np.arange(16), crop_augmentation(0))
    loader = make_loader(
        data,
        8,
        lambda samples: np.stack([s[0] for s in samples]),
        train=True,
        workers=2,
        seed=0,
    )
    first_worker, second_worker = list(loader)
    assert not np.array_equal(first_worker, second_worker)


def test_class_schemes_group_cells_and_benign_follows_the_setting(synthetic, tmp_path):
    cache = ArrayCache(tmp_path / "cache")
    three = make_task(
        TrainingConfig(task="classifier", scheme="3", image_size=32), synthetic
    )
    three.prepare(cache)
    assert three.class_names == ["normal", "benign", "abnormal"]

    two = make_task(
        TrainingConfig(task="classifier", scheme="2", image_size=32), synthetic
    )
    two.prepare(cache)
    assert two.class_names == ["normal", "abnormal"]
    metaplastic = [
        label
        for label, name in zip(two.labels, two.cell_classes, strict=True)
        if name == "metaplastic"
    ]
    assert metaplastic and set(metaplastic) == {0}  # benign counts as normal here

    koilocytotic = {
        int(label)
        for label, name in zip(two.labels, two.cell_classes, strict=True)
        if name == "koilocytotic"
    }
    assert koilocytotic == {1}

    # Publications differ; a dataset may put benign cells with the abnormal ones.
    synthetic.settings.scheme = replace(
        synthetic.scheme, benign_in_two_class="abnormal"
    )
    strict = make_task(
        TrainingConfig(task="classifier", scheme="2", image_size=32), synthetic
    )
    strict.prepare(cache)
    assert {
        int(label)
        for label, name in zip(strict.labels, strict.cell_classes, strict=True)
        if name == "metaplastic"
    } == {1}
