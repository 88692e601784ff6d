"""A segmentation model's card says the pixel size it learned at, so that
inference reads a slide of any magnification at the model's scale."""

from __future__ import annotations

import pytest

from engine.annotations import Dataset
from engine.annotations.project import ProjectFolder
from engine.inference.tiling import model_scale
from engine.models import ModelCard
from engine.synthetic import default_pixels_per_micron
from engine.training import TrainingConfig
from engine.training.tasks.maskrcnn import MaskRcnnTask
from engine.training.tasks.scenes import model_microns_per_pixel, scene_images
from engine.training.tasks.unet import UnetTask


class SlideAt:
    """What `model_scale` asks of an image: a slide with a stated pixel size."""

    def __init__(self, microns_per_pixel: float):
        self.microns_per_pixel = microns_per_pixel
        self.size = (50_000, 50_000)
        self.level_count = 8


@pytest.mark.parametrize("task_type", [UnetTask, MaskRcnnTask])
def test_segmentation_cards_record_the_pixel_size_the_model_saw(synthetic, task_type):
    config = TrainingConfig(task=task_type.name, image_size=64)
    settings = task_type(config, synthetic).inference_settings()

    # The 256x192 sample's shorter side is scaled to 64 pixels in training.
    drawn = 1 / default_pixels_per_micron((256, 192))
    assert settings["microns_per_pixel"] == pytest.approx(drawn * 192 / 64)
    # A slide scanned at a quarter of that pixel size is read at a quarter.
    card = ModelCard(
        task=task_type.name,
        arch="any",
        num_classes=2,
        classes=["a", "b"],
        input_size=64,
        inference=settings,
    )
    assert model_scale(card, SlideAt(drawn * 192 / 64 / 4)) == pytest.approx(0.25)


def test_the_projects_stated_pixel_size_wins(synthetic_copy):
    folder = ProjectFolder(synthetic_copy)
    settings = folder.load_settings()
    settings.settings["microns_per_pixel"] = 0.25
    folder.save_settings(settings)

    dataset = Dataset.open(synthetic_copy)
    microns = model_microns_per_pixel(dataset, scene_images(dataset.images), 128)
    assert microns == pytest.approx(0.25 * 192 / 128)


def test_images_of_unknown_pixel_size_record_none(synthetic_copy):
    folder = ProjectFolder(synthetic_copy)
    settings = folder.load_settings()
    settings.synthetic = False
    settings.settings.pop("image_size")
    folder.save_settings(settings)

    dataset = Dataset.open(synthetic_copy)
    assert model_microns_per_pixel(dataset, scene_images(dataset.images), 128) is None
