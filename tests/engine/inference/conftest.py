"""Fixtures of the inference tests: a synthetic dataset and slide, a tiny
classifier and a small U-Net trained briefly on the dataset once per session,
fake predictors that draw known cells, and one CPU thread per test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from engine.models import ModelCard, read_card, update_card
from engine.models.maskrcnn import Instances
from engine.synthetic import default_pixels_per_micron

DATASET_SIZE = (256, 192)
UNET_SIZE = 128
# The synthetic dataset's pixel size, and the U-Net's once training has scaled
# each image's shorter side to its input size.
DATASET_MPP = 1 / default_pixels_per_micron(DATASET_SIZE)
UNET_MPP = DATASET_MPP * DATASET_SIZE[1] / UNET_SIZE
SLIDE_MPP = UNET_MPP / 2  # the U-Net reads the test slide at half its size


@pytest.fixture(autouse=True)
def one_thread():
    """Two OpenMP threads on two shared cores run several times slower than one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    from engine.synthetic import make_dataset

    return make_dataset(
        tmp_path_factory.mktemp("inference") / "synthetic",
        images_per_class=4,
        image_size=DATASET_SIZE,
        seed=0,
    )


def _train(config, root: Path, out: Path) -> Path:
    from engine.training import train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(config, root, out)
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="session")
def classifier_checkpoint(synthetic_root, tmp_path_factory) -> Path:
    """A tiny CNN trained for seconds: well above chance on the synthetic cells."""
    from engine.training import TrainingConfig

    config = TrainingConfig(
        task="classifier",
        arch="tiny-cnn",
        pretrained="none",
        seed=0,
        val_every=1000,
        image_size=64,
        batch_size=16,
        epochs=10,
        lr=2e-3,
    )
    return _train(config, synthetic_root, tmp_path_factory.mktemp("cls") / "run")


@pytest.fixture(scope="session")
def unet_checkpoint(synthetic_root, tmp_path_factory) -> Path:
    """The small U-Net after six short epochs (cell Dice about 0.85 on held-out
    images), its card saying the pixel size it was trained at."""
    from engine.training import TrainingConfig

    config = TrainingConfig(
        task="unet",
        arch="unet-resnet18",
        pretrained="none",
        seed=0,
        val_every=1000,
        image_size=UNET_SIZE,
        batch_size=2,
        epochs=6,
        lr=1e-3,
    )
    run = _train(config, synthetic_root, tmp_path_factory.mktemp("unet") / "run")
    card = read_card(run)
    card.inference["microns_per_pixel"] = UNET_MPP
    update_card(run, card)
    return run


@pytest.fixture(scope="session")
def synthetic_slide(tmp_path_factory):
    """A 1024 x 1024 pyramidal synthetic slide with its true cells beside it."""
    from engine.images.synth_slide import write_synthetic_slide

    folder = tmp_path_factory.mktemp("slide")
    return write_synthetic_slide(
        folder / "smear.ome.tif", (1024, 1024), seed=3, microns_per_pixel=SLIDE_MPP
    )


def write_png(path: Path, pixels: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    return path


def disc_image(size: tuple[int, int], discs) -> np.ndarray:
    """A white image with dark discs (cx, cy, r), as (H, W, 3) uint8."""
    width, height = size
    pixels = np.full((height, width, 3), 250, np.uint8)
    for cx, cy, radius in discs:
        cv2.circle(pixels, (int(cx), int(cy)), int(radius), (90, 60, 120), -1)
    return pixels


def fake_card(task: str, input_size: int, classes=("cell",), **inference) -> ModelCard:
    return ModelCard(
        task=task,
        arch="fake",
        num_classes=len(classes),
        classes=list(classes),
        input_size=input_size,
        inference=dict(inference),
    )


@dataclass
class FakeMaskRCNN:
    """Finds every dark pixel blob of a tile as an instance, as a perfect Mask
    R-CNN would on disc images; each tile is seen on its own, so a disc across a
    border is found, cut, in every tile that shows part of it."""

    input_size: int = 64
    task: str = "maskrcnn"
    classes: list = field(default_factory=lambda: ["cell"])
    calls: int = 0

    def __post_init__(self):
        self.card = fake_card("maskrcnn", self.input_size)
        self.folder = None
        self.name = "fake-maskrcnn"

    def predict_tiles(self, tiles: np.ndarray) -> list[Instances]:
        self.calls += 1
        found = []
        for tile in tiles:
            dark = tile.mean(axis=2) < 160
            count, labels = cv2.connectedComponents(dark.astype(np.uint8))
            masks = (
                np.stack([labels == i for i in range(1, count)])
                if count > 1
                else (np.zeros((0, *dark.shape), bool))
            )
            found.append(
                Instances(
                    masks=masks,
                    scores=np.full(len(masks), 0.9),
                    labels=np.zeros(len(masks), int),
                    boxes=np.zeros((len(masks), 4)),
                )
            )
        return found


@dataclass
class FakeUNet:
    """Calls dark pixels cell (probability 1) and very dark ones nucleus."""

    input_size: int = 64
    task: str = "unet"
    threshold: float = 0.5
    calls: int = 0

    def __post_init__(self):
        self.card = fake_card("unet", self.input_size, ("cell", "nucleus"))
        self.folder = None
        self.name = "fake-unet"

    def predict_tiles(self, tiles: np.ndarray) -> np.ndarray:
        self.calls += 1
        grey = tiles.astype(np.float32).mean(axis=3)
        cell = (grey < 160).astype(np.float32)
        nucleus = (grey < 60).astype(np.float32)
        return np.stack([cell, nucleus], axis=1)


@pytest.fixture
def fake_maskrcnn() -> FakeMaskRCNN:
    return FakeMaskRCNN()


@pytest.fixture
def fake_unet() -> FakeUNet:
    return FakeUNet()
