"""The three small models the inference benchmarks run: trained for under a
minute on a synthetic dataset with the training API (nothing is downloaded),
into a folder that keeps them between runs; a model there trained by another
recipe is trained again."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from engine.inference import ClassifierPredictor, MaskRCNNPredictor, UNetPredictor
from engine.models import (
    CheckpointMismatchError,
    load_checkpoint,
    read_card,
    resolve_checkpoint,
    update_card,
)
from engine.synthetic import default_pixels_per_micron

DATASET_SIZE = (256, 192)
SEG_SIZE = 128
# The synthetic dataset's pixel size at the segmentation models' input size.
MODEL_MPP = (1 / default_pixels_per_micron(DATASET_SIZE)) * DATASET_SIZE[1] / SEG_SIZE
RECIPES = {
    "classifier": dict(arch="tiny-cnn", image_size=64, batch_size=16, epochs=10),
    "unet": dict(arch="unet-resnet18", image_size=SEG_SIZE, batch_size=2, epochs=6),
    # Long enough that it finds the slides' cells (AP50 about 0.5 on the
    # synthetic test images, some 45 s): with fewer epochs no score reached
    # the threshold, and its rows left out merging and tracing altogether.
    "maskrcnn": dict(
        arch="maskrcnn-resnet18-fpn",
        image_size=SEG_SIZE,
        batch_size=2,
        epochs=30,
        warmup_steps=10,
    ),
}
PREDICTORS = {
    "classifier": ClassifierPredictor,
    "unet": UNetPredictor,
    "maskrcnn": MaskRCNNPredictor,
}
BATCH = {"classifier": 32, "unet": 8, "maskrcnn": 4}


def train_models(folder: Path) -> dict[str, Path]:
    """The three small models, trained briefly on a synthetic dataset."""
    from engine.synthetic import make_dataset
    from engine.training import TrainingConfig, train

    data = folder / "synthetic"
    if not data.exists():
        make_dataset(data, images_per_class=4, image_size=DATASET_SIZE, seed=0)
    runs = {}
    for task, recipe in RECIPES.items():
        run = folder / task
        if (run / "best" / "model.json").exists() and not trained_by_recipe(
            run, recipe
        ):
            shutil.rmtree(run)  # trained before the architecture or recipe changed
        if not (run / "best" / "model.json").exists():
            started = time.perf_counter()
            config = TrainingConfig(
                task=task,
                pretrained="none",
                seed=0,
                val_every=1000,
                lr=2e-3 if task == "classifier" else 1e-3,
                **recipe,
            )
            train(config, data, run)
            print(f"trained {task} in {time.perf_counter() - started:.0f} s")
        card = read_card(run)
        if task != "classifier" and "microns_per_pixel" not in card.inference:
            # Trained before training recorded the model's pixel size.
            card.inference["microns_per_pixel"] = MODEL_MPP
            update_card(run, card)
        runs[task] = resolve_checkpoint(run)
    return runs


def trained_by_recipe(run: Path, recipe: dict) -> bool:
    """Whether the model in `run` loads and was trained by today's recipe."""
    try:
        load_checkpoint(run)
    except CheckpointMismatchError:
        return False
    training = read_card(run).training
    return all(training.get(key) == value for key, value in recipe.items())
