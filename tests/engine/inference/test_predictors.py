"""Predictors load a checkpoint for inference and prepare their input as training
did: the same crops, the same normalisation, on the device training would pick."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.annotations import Cell
from engine.images import open_image
from engine.images.pyramid_writer import write_pyramidal_ome_tiff
from engine.inference import (
    ClassifierPredictor,
    InferenceError,
    UNetPredictor,
    inference_device,
    load_predictor,
    model_scale,
)
from engine.inference.crops import read_cell_crop
from engine.training.tasks.classifier import cell_crop

from .conftest import fake_card, write_png


def test_the_device_is_chosen_as_training_chooses_it():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if expected == "cpu" and torch.backends.mps.is_available():
        expected = "mps"
    assert inference_device("auto").type == expected
    assert inference_device("cpu") == torch.device("cpu")
    with pytest.raises(InferenceError, match="unknown device"):
        inference_device("abacus")
    if not torch.cuda.is_available():
        with pytest.raises(InferenceError, match="CUDA is not available"):
            inference_device("cuda")


def test_a_classifier_checkpoint_gives_probabilities_per_crop(classifier_checkpoint):
    predictor = load_predictor(classifier_checkpoint, "cpu")
    assert isinstance(predictor, ClassifierPredictor)
    assert not predictor.model.training
    crops = np.random.default_rng(0).integers(0, 255, (5, 90, 70, 3), np.uint8)
    probabilities = predictor.predict_crops(list(crops))
    assert probabilities.shape == (5, len(predictor.classes))
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_a_checkpoint_of_another_task_is_refused(classifier_checkpoint):
    with pytest.raises(InferenceError, match="is a classifier model, not a unet"):
        UNetPredictor.from_checkpoint(classifier_checkpoint, "cpu")


def test_unet_tiles_of_any_size_give_two_probability_channels(unet_checkpoint):
    predictor = UNetPredictor.from_checkpoint(unet_checkpoint, "cpu")
    tiles = np.full((2, 70, 100, 3), 240, np.uint8)
    probabilities = predictor.predict_tiles(tiles)
    assert probabilities.shape == (2, 2, 70, 100)
    assert 0 <= probabilities.min() and probabilities.max() <= 1
    assert probabilities[:, 0].mean() < 0.5  # blank glass is no cell


def test_cell_crops_read_through_a_source_are_trainings_crops(tmp_path):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, (300, 400, 3), np.uint8)
    path = write_png(tmp_path / "image.png", pixels)
    cells = [
        Cell(1, [[120.3, 80.7], [190.2, 95.1], [150.9, 170.4]], None, "x"),
        Cell(2, [[2.2, 5.6], [40.1, 3.3], [30.7, 44.8]], None, "x"),  # at a corner
        Cell(3, [[360.6, 250.2], [399.0, 280.9], [370.3, 299.0]], None, "x"),
    ]
    with open_image(path) as source:
        for cell in cells:
            expected = cell_crop(pixels, cell, 64, 0.15)
            assert np.array_equal(
                read_cell_crop(source, cell.bounds, 64, 0.15), expected
            )


def test_a_large_cell_on_a_slide_is_cut_from_a_reduced_level(tmp_path):
    gradient = np.linspace(0, 255, 2048, dtype=np.float32)
    level0 = np.repeat(np.tile(gradient, (2048, 1))[..., None], 3, axis=2)
    level0 = level0.astype(np.uint8)

    def paint(tile_x, tile_y):
        return level0[
            tile_y * 512 : (tile_y + 1) * 512, tile_x * 512 : (tile_x + 1) * 512
        ]

    path = tmp_path / "ramp.ome.tif"
    write_pyramidal_ome_tiff(path, (2048, 2048), paint, quality=98)
    cell = Cell(1, [[500, 500], [1500, 520], [1000, 1400]], None, "x")
    with open_image(path) as source:
        crop = read_cell_crop(source, cell.bounds, 64, 0.15)
    expected = cell_crop(level0, cell, 64, 0.15)
    assert np.abs(crop.astype(float) - expected).mean() < 3


def test_the_models_scale_follows_pixel_sizes_or_trainings_rule(tmp_path):
    card = fake_card("unet", 128)
    path = write_png(tmp_path / "cluster.png", np.zeros((192, 256, 3), np.uint8))
    with open_image(path) as source:
        # A cluster image is scaled as training scaled it: shorter side to 128.
        assert model_scale(card, source) == pytest.approx(128 / 192)
        assert model_scale(card, source, scale=0.3) == 0.3
    card.inference["microns_per_pixel"] = 1.0

    def paint(tile_x, tile_y):
        return np.zeros((512, 512, 3), np.uint8)

    slide = tmp_path / "slide.ome.tif"
    write_pyramidal_ome_tiff(slide, (5000, 600), paint, microns_per_pixel=0.25)
    with open_image(slide) as source:
        assert model_scale(card, source) == pytest.approx(0.25)


def test_mask_rcnn_drops_unlikely_boxes_before_its_mask_head_and_keeps_the_rest():
    """The model is told the score threshold, so its mask head sees only the
    boxes that are kept; what is kept is exactly what the model's default
    threshold and `postprocess` keep, and the model's threshold is put back."""
    from engine.inference import MaskRCNNPredictor
    from engine.models import build_model, postprocess

    from .conftest import disc_image

    torch.manual_seed(0)
    model = build_model("maskrcnn", "maskrcnn-resnet18-fpn", 2, image_size=64).eval()
    tiles = np.stack(
        [
            disc_image((64, 64), [(20, 20, 9), (45, 40, 12)]),
            disc_image((64, 64), [(32, 30, 14)]),
        ]
    )
    images = list(torch.from_numpy(tiles).permute(0, 3, 1, 2).float().div(255))
    with torch.inference_mode():
        everything = model(images)  # the model's own threshold
    scores = np.concatenate([output["scores"].numpy() for output in everything])
    assert len(scores) > 4
    threshold = float(np.median(scores))
    expected = [postprocess(output, threshold, 0.5) for output in everything]

    masked = []
    hook = model.roi_heads.mask_head.register_forward_hook(
        lambda _module, inputs, _output: masked.append(len(inputs[0]))
    )
    own_threshold = model.roi_heads.score_thresh
    predictor = MaskRCNNPredictor(
        model, fake_card("maskrcnn", 64), "cpu", score_threshold=threshold
    )
    found = predictor.predict_tiles(tiles)
    hook.remove()

    kept = sum(len(f.scores) for f in found)
    assert 0 < kept < len(scores)
    assert sum(masked) == kept
    assert model.roi_heads.score_thresh == own_threshold
    for got, wanted in zip(found, expected, strict=True):
        assert np.array_equal(got.scores, wanted.scores)
        assert np.array_equal(got.labels, wanted.labels)
        assert np.allclose(got.boxes, wanted.boxes)
        assert np.array_equal(got.masks, wanted.masks)
