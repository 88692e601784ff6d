"""A synthetic dataset with a model run whose predictions are chosen by hand, so
that every rank, queue position and count in the review tests is known.

Run "run-1" predicts (abnormal probability = koilocytotic + dyskeratotic):

- im_Koilocytotic/001: cell 1 as koilocytotic (0.95 abnormal), cell 2 as
  metaplastic (0.35, disagreeing with its annotation), and predicted cell 3 on
  empty glass, dyskeratotic (0.80); its U-Net mask covers cell 1 only;
- im_Parabasal/001: cell 1 as parabasal (0.01), and predicted cell 2 on empty
  glass with every class equally likely (0.40, the most uncertain);
- im_Metaplastic/001: no cells, only a U-Net mask with one round cell and its
  nucleus on empty glass.

Every other annotation cell has no probabilities (0 abnormal).
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest

from engine.annotations import Dataset
from engine.annotations.importers.contours import rasterise
from engine.predictions import ImagePredictions, PredictedCell, PredictionStore
from engine.synthetic import make_dataset

RUN = "run-1"
KOILO = "im_Koilocytotic/001"
PARA = "im_Parabasal/001"
META = "im_Metaplastic/001"
SIZE = (256, 192)

KOILO_CELL_1 = {
    "koilocytotic": 0.90,
    "dyskeratotic": 0.05,
    "metaplastic": 0.03,
    "parabasal": 0.01,
    "superficial-intermediate": 0.01,
}
KOILO_CELL_2 = {
    "metaplastic": 0.60,
    "koilocytotic": 0.30,
    "dyskeratotic": 0.05,
    "parabasal": 0.03,
    "superficial-intermediate": 0.02,
}
KOILO_EMPTY = {
    "dyskeratotic": 0.70,
    "koilocytotic": 0.10,
    "metaplastic": 0.10,
    "parabasal": 0.05,
    "superficial-intermediate": 0.05,
}
PARA_CELL_1 = {
    "parabasal": 0.97,
    "superficial-intermediate": 0.01,
    "metaplastic": 0.01,
    "koilocytotic": 0.005,
    "dyskeratotic": 0.005,
}
PARA_EMPTY = dict.fromkeys(KOILO_CELL_1, 0.2)


@dataclass
class Sample:
    """The sample's folder and store; the image keys and run name for the tests."""

    koilo: ClassVar[str] = KOILO
    para: ClassVar[str] = PARA
    meta: ClassVar[str] = META
    run: ClassVar[str] = RUN
    size: ClassVar[tuple[int, int]] = SIZE

    root: Path
    store: PredictionStore
    koilo_empty_square: np.ndarray  # the outline of predicted cell 3 of KOILO
    para_empty_square: np.ndarray
    meta_disc_centre: tuple[int, int]

    def open(self) -> Dataset:
        return Dataset.open(self.root)


def empty_square(dataset: Dataset, key: str, side: int) -> np.ndarray:
    """A square on empty glass: no annotation cell within 4 pixels of it."""
    width, height = SIZE
    covered = np.zeros((height, width), bool)
    for cell in dataset.image(key).cells:
        covered |= rasterise(cell.cytoplasm, (height, width))
    covered = cv2.dilate(covered.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    for top in range(4, height - side - 4, 4):
        for left in range(4, width - side - 4, 4):
            if not covered[top : top + side, left : left + side].any():
                return np.array(
                    [
                        [left, top],
                        [left + side, top],
                        [left + side, top + side],
                        [left, top + side],
                    ],
                    dtype=np.float64,
                )
    raise AssertionError(f"{key} has no empty {side}-pixel square")


def predicted(
    cell_id: int, outline, probabilities, nucleus=None, score=0.9
) -> PredictedCell:
    return PredictedCell(
        id=cell_id,
        cytoplasm=np.asarray(outline, dtype=np.float64),
        nucleus=nucleus,
        score=score,
        probabilities=dict(probabilities),
        predicted_class=max(probabilities, key=probabilities.get),
    )


@pytest.fixture(scope="session")
def pristine_sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The sample drawn once; tests get their own copy to change."""
    return _draw_sample(tmp_path_factory.mktemp("review") / "smear")


@pytest.fixture
def sample(pristine_sample: Sample, tmp_path: Path) -> Sample:
    root = tmp_path / "smear"
    shutil.copytree(pristine_sample.root, root)
    return dataclasses.replace(
        pristine_sample, root=root, store=PredictionStore.for_dataset(root)
    )


def _draw_sample(folder: Path) -> Sample:
    root = make_dataset(folder, images_per_class=1, seed=3, image_size=SIZE)
    dataset = Dataset.open(root)
    store = PredictionStore.for_dataset(root)
    classes = list(dataset.scheme.names)

    koilo = dataset.image(KOILO)
    koilo_square = empty_square(dataset, KOILO, 20)
    square_nucleus = koilo_square.mean(axis=0) + np.array(
        [[-3, -3], [3, -3], [3, 3], [-3, 3]], dtype=np.float64
    )
    store.save_cells(
        RUN,
        ImagePredictions(
            KOILO,
            SIZE,
            [
                predicted(
                    1, koilo.cell(1).cytoplasm, KOILO_CELL_1, koilo.cell(1).nucleus
                ),
                predicted(2, koilo.cell(2).cytoplasm, KOILO_CELL_2),
                predicted(3, koilo_square, KOILO_EMPTY, square_nucleus, score=0.7),
            ],
            classes=classes,
        ),
    )
    width, height = SIZE
    koilo_mask = np.zeros((height, width, 2), np.float32)
    koilo_mask[..., 0] = rasterise(koilo.cell(1).cytoplasm, (height, width))
    store.save_mask(RUN, KOILO, koilo_mask)

    para = dataset.image(PARA)
    para_square = empty_square(dataset, PARA, 16)
    store.save_cells(
        RUN,
        ImagePredictions(
            PARA,
            SIZE,
            [
                predicted(1, para.cell(1).cytoplasm, PARA_CELL_1),
                PredictedCell(
                    2,
                    para_square,
                    probabilities=PARA_EMPTY,
                    predicted_class="superficial-intermediate",
                    score=0.5,
                ),
            ],
            classes=classes,
        ),
    )

    disc_square = empty_square(dataset, META, 24)
    centre = tuple(int(v) for v in disc_square.mean(axis=0))
    meta_mask = np.zeros((height, width, 2), np.float32)
    cell_channel = np.zeros((height, width), np.uint8)
    cv2.circle(cell_channel, centre, 10, 1, -1)
    nucleus_channel = np.zeros((height, width), np.uint8)
    cv2.circle(nucleus_channel, centre, 3, 1, -1)
    meta_mask[..., 0] = cell_channel * 0.9
    meta_mask[..., 1] = nucleus_channel * 0.8
    store.save_mask(RUN, META, meta_mask)

    return Sample(root, store, koilo_square, para_square, centre)
