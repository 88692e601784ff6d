"""A small dataset whose model run was written by the test, not by a model: every
annotated cell has a predicted twin whose class probabilities the test chose, so
the expected ranking is known; one more predicted cell has no annotation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMessageBox

from engine.predictions import ImagePredictions, PredictedCell, PredictionStore

RUN = "run-1"
# image key -> per annotated cell (in the small layout's order): the probability
# of koilocytotic; the rest goes to the image's folder class.
KOILOCYTOTIC = {
    "im_Parabasal/001": [0.95, 0.55, 0.10],
    "im_Parabasal/002": [0.30],
    "im_Metaplastic/001": [0.80, 0.05],
    "im_Koilocytotic/001": [0.90],
    "im_Koilocytotic/002": [0.60, 0.20],
}
# A cell only the model found, where im_Parabasal/002 has no annotation.
UNOUTLINED = ("im_Parabasal/002", (230.0, 190.0, 18.0), {"dyskeratotic": 0.7})


@pytest.fixture(autouse=True)
def no_modal_questions(monkeypatch) -> list:
    """Unsaved edits left when a test's window closes are discarded, never asked
    about in a dialog that would wait for a person; the titles asked are kept."""
    asked = []

    def warning(parent, title, *args, **kwargs):
        asked.append(title)
        return QMessageBox.StandardButton.Discard

    monkeypatch.setattr(QMessageBox, "warning", warning)
    return asked


def ellipse(cx, cy, rx, ry, vertices: int = 24) -> np.ndarray:
    angles = np.linspace(0.0, 2.0 * np.pi, vertices, endpoint=False)
    return np.column_stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)])


def probabilities(folder_class: str, koilocytotic: float) -> dict[str, float]:
    if folder_class == "koilocytotic":
        return {"koilocytotic": koilocytotic, "parabasal": 1.0 - koilocytotic}
    return {"koilocytotic": koilocytotic, folder_class: 1.0 - koilocytotic}


@pytest.fixture
def reviewed_dataset(dataset_drawer, small_layout, image_size, tmp_path) -> Path:
    """The small dataset with the chosen run stored."""
    root = dataset_drawer(tmp_path / "review")
    store = PredictionStore.for_dataset(root)
    for key, chances in KOILOCYTOTIC.items():
        folder, stem = key.split("/")
        folder_class = folder.removeprefix("im_").lower()
        cells = []
        for number, ((cx, cy, radius), chance) in enumerate(
            zip(small_layout[folder][stem], chances, strict=True), start=1
        ):
            probs = probabilities(folder_class, chance)
            cells.append(
                PredictedCell(
                    id=number,
                    cytoplasm=ellipse(cx, cy, radius, radius * 0.8),
                    nucleus=ellipse(cx, cy, radius / 3, radius / 3.5),
                    score=0.9,
                    probabilities=probs,
                    predicted_class=max(probs, key=probs.get),
                )
            )
        if key == UNOUTLINED[0]:
            (cx, cy, radius), probs = UNOUTLINED[1], UNOUTLINED[2]
            probs = {**probs, "parabasal": 1.0 - sum(probs.values())}
            cells.append(
                PredictedCell(
                    id=len(cells) + 1,
                    cytoplasm=ellipse(cx, cy, radius, radius * 0.8),
                    nucleus=ellipse(cx, cy, radius / 3, radius / 3.5),
                    score=0.8,
                    probabilities=probs,
                    predicted_class="dyskeratotic",
                )
            )
        store.save_cells(RUN, ImagePredictions(key, image_size, cells))
    return root


def click_image(qtbot, window, x: float, y: float) -> None:
    """A left click on the viewer at image point (x, y)."""
    viewport = window.viewer.view.viewport()
    point = window.viewer.view.mapFromScene(QPointF(x, y))
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)
    qtbot.wait(1)


MODEL_RUN = "tiny-cnn"


@pytest.fixture(scope="session")
def model_run_root(tmp_path_factory) -> Path:
    """A synthetic dataset whose cells a real tiny CNN classified: trained for
    three short epochs on the dataset itself (its probabilities vary from cell to
    cell, some sure, some not), then run by the inference pipeline into the
    dataset's prediction store as run `MODEL_RUN`."""
    import torch

    from engine.inference import InferencePipeline, load_predictor, resolve_input
    from engine.synthetic import make_dataset
    from engine.training import TrainingConfig, train

    folder = tmp_path_factory.mktemp("review-model")
    root = make_dataset(
        folder / "synthetic",
        images_per_class=2,
        seed=5,
        image_size=(128, 96),
        cropped=False,
    )
    config = TrainingConfig(
        task="classifier",
        arch="tiny-cnn",
        pretrained="none",
        seed=0,
        val_every=1000,
        val_fraction=0.0,
        test_fraction=0.0,
        image_size=48,
        batch_size=16,
        epochs=3,
        lr=2e-3,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two OpenMP threads on two shared cores are slower
    try:
        train(config, root, folder / "classifier")
        source = resolve_input(root, with_cells=True)
        classifier = load_predictor(folder / "classifier", "cpu")
        InferencePipeline(classifier=classifier).run(
            source.jobs, source.store, MODEL_RUN
        )
    finally:
        torch.set_num_threads(threads)
    return root


@pytest.fixture
def model_dataset(model_run_root, tmp_path) -> Path:
    """A copy of `model_run_root` (with its run) that the test may edit and save."""
    import shutil

    return Path(shutil.copytree(model_run_root, tmp_path / "synthetic"))
