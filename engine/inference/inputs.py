"""What to run the models on: a dataset folder, a single image, or a slide; and
the prediction store each one's results belong in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from engine.annotations import Dataset, ImageKind
from engine.annotations.classes import ClassScheme
from engine.images import open_image
from engine.images.slide_cells import open_single_image
from engine.inference.pipeline import ImageJob
from engine.predictions import PredictionStore

log = logging.getLogger(__name__)


@dataclass
class InferenceInput:
    """The images of one input, where their results go, and its class scheme."""

    jobs: list[ImageJob]
    store: PredictionStore
    scheme: ClassScheme
    dataset: Dataset | None = None


def _repeats_a_cluster_cell(key: str, cluster_keys: set[str]) -> bool:
    """An isolated crop `.../CROPPED/NNN_KK` of a cluster image in the dataset."""
    if "/CROPPED/" not in key:
        return False
    return key.replace("/CROPPED/", "/").rsplit("_", 1)[0] in cluster_keys


def dataset_jobs(dataset: Dataset, with_cells: bool) -> list[ImageJob]:
    """The images of a dataset to analyse. Segmentation runs on cluster images (or
    the isolated cells when there are none); a classifier on its own classifies
    every annotated cell once."""
    clusters = [i for i in dataset.images if i.kind is ImageKind.CLUSTER]
    if with_cells:
        keys = {image.key for image in clusters}
        chosen = [
            image
            for image in dataset.images
            if image.cells and not _repeats_a_cluster_cell(image.key, keys)
        ]
        return [ImageJob(i.key, i.path, list(i.cells)) for i in chosen]
    chosen = clusters or [i for i in dataset.images if i.kind is ImageKind.CROPPED]
    return [ImageJob(image.key, image.path) for image in chosen]


def resolve_input(
    path: Path | str, out: Path | str | None = None, with_cells: bool = False
) -> InferenceInput:
    """A dataset folder writes into its own prediction store; an image or slide
    into a store rooted at `out`, or beside the file when `out` is None.

    `with_cells` asks for the annotated cells of each image (a classifier run
    on its own). Raises the dataset's or the image layer's typed errors.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        dataset = Dataset.open(path)
        return InferenceInput(
            dataset_jobs(dataset, with_cells),
            PredictionStore.for_dataset(dataset.root),
            dataset.scheme,
            dataset,
        )
    with open_image(path):
        pass  # a missing, empty or damaged file is refused here, by name
    cells = None
    if with_cells:
        cells = open_single_image(path).cells
    store = PredictionStore(Path(out)) if out else PredictionStore.for_slide(path)
    return InferenceInput([ImageJob(path.name, path, cells)], store, ClassScheme())
