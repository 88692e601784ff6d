"""Each small model, trained briefly on the synthetic sample, clearly beats its
untrained self on held-out images (the test split: cluster images never seen).

The best epoch on the validation split is kept, as in real training. Settings
were tried with seeds 0-2 (each seed also splits the data differently); with
seed 0 the figures reached are about: accuracy 1.0, cell Dice 0.87, AP50 0.11.
The thresholds sit below the worst seed and far above the untrained model.
"""

from __future__ import annotations

import pytest
import torch

from engine.annotations import Dataset
from engine.models import build_from_card, read_card
from engine.training import TrainingConfig, train
from engine.training.evaluation import evaluate_model

pytestmark = pytest.mark.slow


def untrained_figures(run, dataset: Dataset, seed: int = 0) -> dict[str, float]:
    """The same architecture with fresh random weights, on the same test split."""
    card = read_card(run)
    torch.manual_seed(seed)
    return evaluate_model(build_from_card(card), card, dataset, "test").metrics


def small_config(task: str, arch: str, **changes) -> TrainingConfig:
    return TrainingConfig(task=task, arch=arch, pretrained="none", seed=0, **changes)


def test_tiny_cnn_classifies_held_out_cells_well_above_chance(synthetic_root, tmp_path):
    config = small_config(
        "classifier", "tiny-cnn", image_size=64, batch_size=16, epochs=30, lr=1e-3
    )
    result = train(config, synthetic_root, tmp_path / "run")

    trained = result.test_metrics["accuracy"]
    untrained = untrained_figures(tmp_path / "run", Dataset.open(synthetic_root))
    chance = 1 / 5
    assert trained >= 0.6, f"accuracy {trained:.3f} (chance {chance})"
    assert trained >= untrained["accuracy"] + 0.3
    assert read_card(tmp_path / "run").metrics["test"]["accuracy"] == trained


def test_small_unet_segments_held_out_cells(synthetic_root, tmp_path):
    config = small_config(
        "unet", "unet-resnet18", image_size=128, batch_size=4, epochs=14, lr=1e-3
    )
    config.val_every = 2
    result = train(config, synthetic_root, tmp_path / "run")

    untrained = untrained_figures(tmp_path / "run", Dataset.open(synthetic_root))
    assert result.test_metrics["dice_cell"] > 0.6
    assert result.test_metrics["dice_nucleus"] > 0.4
    assert result.test_metrics["dice"] > untrained["dice"] + 0.3


def test_small_mask_rcnn_finds_held_out_cells(synthetic_root, tmp_path):
    config = small_config(
        "maskrcnn",
        "maskrcnn-resnet18-fpn",
        image_size=128,
        batch_size=2,
        epochs=8,
        lr=1e-3,
        warmup_steps=10,
    )
    config.val_every = 2
    result = train(config, synthetic_root, tmp_path / "run")

    untrained = untrained_figures(tmp_path / "run", Dataset.open(synthetic_root))
    assert untrained["AP50"] < 0.02  # random boxes match no cell
    assert result.test_metrics["AP50"] >= 0.05
    assert result.test_metrics["AP50"] >= untrained["AP50"] + 0.04
