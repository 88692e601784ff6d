"""Review candidates: the cells a reviewer should look at, from the saved
annotations and one model run, most suspicious first.

A predicted cell whose outline overlaps a saved annotation cell with an IoU above
0.5 is the same cell: it shows the annotation's outline and review state and the
model's class probabilities. Cells a reviewer already decided leave the queue
unless asked for; predicted cells rejected earlier are remembered in the run's
decisions file (see `engine.review.decisions`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.strtree import STRtree

from engine.annotations.cells import Cell, ReviewState
from engine.annotations.classes import ClassScheme
from engine.annotations.dataset import Dataset
from engine.metrics.measurements import outline_polygon
from engine.predictions.store import PredictedCell, PredictionStore
from engine.review.decisions import PredictedDecision, load_decisions
from engine.review.errors import ReviewError

log = logging.getLogger(__name__)

MATCH_IOU = 0.5  # a predicted cell overlapping an annotation more than this is it
REVIEWED_STATES = (ReviewState.ACCEPTED, ReviewState.CORRECTED)


@dataclass(eq=False)
class ReviewSource:
    """Where candidates come from: a dataset's annotations, one run's predictions
    (of the dataset or of a slide opened on its own), or both."""

    scheme: ClassScheme
    dataset: Dataset | None = None
    store: PredictionStore | None = None
    run: str | None = None
    slide_path: Path | None = None

    @classmethod
    def for_dataset(cls, dataset: Dataset, run: str | None = None) -> ReviewSource:
        """The dataset's annotations, with the predictions of `run` when given."""
        store = PredictionStore.for_dataset(dataset.root)
        if run is not None:
            _check_run(store, run)
        return cls(dataset.scheme, dataset, store, run)

    @classmethod
    def for_slide(
        cls, slide_path: Path | str, run: str, scheme: ClassScheme | None = None
    ) -> ReviewSource:
        """The predictions of `run` for a slide opened without a dataset."""
        slide_path = Path(slide_path)
        store = PredictionStore.for_slide(slide_path)
        _check_run(store, run)
        return cls(scheme or ClassScheme(), None, store, run, slide_path)

    @property
    def name(self) -> str:
        """The dataset folder's or the slide file's name, for titles."""
        if self.dataset is not None:
            return self.dataset.root.name
        if self.slide_path is not None:
            return self.slide_path.name
        return "predictions"

    @property
    def synthetic(self) -> bool:
        return self.dataset is not None and self.dataset.settings.synthetic

    def abnormal_classes(self) -> set[str]:
        return {c.name for c in self.scheme.classes if c.group == "abnormal"}

    def image_keys(self) -> list[str]:
        """Every image with cells to review, each cell counted once: an isolated
        crop whose cluster image is in the dataset is left out."""
        dataset_keys = set()
        if self.dataset is not None:
            dataset_keys = {image.key for image in self.dataset.images}
        keys = set(dataset_keys)
        if self.store is not None and self.run is not None:
            keys.update(self.store.images_with_cells(self.run))
        return sorted(key for key in keys if not _repeats_a_cell(key, dataset_keys))


def _repeats_a_cell(key: str, dataset_keys: set[str]) -> bool:
    """Whether an image is an isolated crop `.../CROPPED/NNN_KK` of a cluster
    image `NNN` in the dataset, its cell being that image's cell KK."""
    if "/CROPPED/" not in key:
        return False
    cluster_key = key.replace("/CROPPED/", "/").rsplit("_", 1)[0]
    return cluster_key in dataset_keys


def _check_run(store: PredictionStore, run: str) -> None:
    runs = store.runs()
    if run not in runs:
        stored = ", ".join(runs) if runs else "none"
        raise ReviewError(
            f"has no model run {run!r}",
            store.root,
            f"choose one of the stored runs ({stored}) or run the models first",
        )


@dataclass(eq=False)
class ReviewCandidate:
    """One cell to review, linked to its place on the image.

    A candidate refers to a saved annotation cell (`annotation_index`), to a
    predicted cell of a run (`predicted_id`), or to both when they are the same
    cell. Its outline is the annotation's where there is one.
    """

    image_key: str
    annotation_index: int | None
    predicted_id: int | None
    run: str | None
    cytoplasm: np.ndarray
    nucleus: np.ndarray | None
    centre: tuple[float, float]
    bounds: tuple[float, float, float, float]  # x_min, y_min, x_max, y_max
    predicted_class: str | None
    probabilities: dict[str, float] | None
    abnormal_probability: float
    review_state: ReviewState
    annotation_class: str | None  # a person's class: the annotation's, or a decision's
    score: float | None = None  # the instance model's confidence
    overlap: float | None = None  # IoU of the predicted and the annotation outline
    source: str | None = None  # the model that drew the predicted outline
    predicted_outline: np.ndarray | None = None  # the model's own outline

    @property
    def kind(self) -> str:
        """'annotation' for a saved cell (with or without a prediction), else
        'predicted' for a cell only a model drew."""
        return "annotation" if self.annotation_index is not None else "predicted"

    @property
    def ref(self) -> str:
        """A short reference such as 'cell 3' or 'predicted 12', for lists."""
        if self.annotation_index is not None:
            return f"cell {self.annotation_index}"
        return f"predicted {self.predicted_id}"

    @property
    def reviewed(self) -> bool:
        return self.review_state is not ReviewState.UNREVIEWED

    @property
    def reviewed_class(self) -> str | None:
        """The class after review: None until the cell is accepted or corrected."""
        if self.review_state not in REVIEWED_STATES:
            return None
        return self.annotation_class or self.predicted_class

    def sort_key(self) -> tuple:
        """Most abnormal first; ties by image key, then annotation cells by index
        before predicted-only cells by id."""
        if self.annotation_index is not None:
            identity = (0, self.annotation_index)
        else:
            identity = (1, self.predicted_id)
        return (-self.abnormal_probability, self.image_key, identity)


def abnormal_probability(
    probabilities: dict[str, float] | None, abnormal_classes: set[str]
) -> float:
    """The summed probability of the abnormal classes (0 without probabilities)."""
    if not probabilities:
        return 0.0
    return float(
        sum(p for name, p in probabilities.items() if name in abnormal_classes)
    )


def most_probable(probabilities: dict[str, float] | None) -> str | None:
    if not probabilities:
        return None
    return max(probabilities, key=lambda name: probabilities[name])


def outline_centre(vertices: np.ndarray) -> tuple[float, float]:
    """The centre of area of an outline (its vertex mean when it has no area)."""
    x, y = vertices[:, 0], vertices[:, 1]
    x_next = np.concatenate((x[1:], x[:1]))
    y_next = np.concatenate((y[1:], y[:1]))
    cross = x * y_next - x_next * y
    area = cross.sum() / 2.0
    if abs(area) < 1e-9:
        return float(x.mean()), float(y.mean())
    centre_x = ((x + x_next) * cross).sum() / (6.0 * area)
    centre_y = ((y + y_next) * cross).sum() / (6.0 * area)
    return float(centre_x), float(centre_y)


def outline_bounds(vertices: np.ndarray) -> tuple[float, float, float, float]:
    x_min, y_min = vertices.min(axis=0)
    x_max, y_max = vertices.max(axis=0)
    return float(x_min), float(y_min), float(x_max), float(y_max)


def link_predictions(
    predicted: list[PredictedCell], cells: list[Cell], min_iou: float = MATCH_IOU
) -> dict[int, tuple[int, float]]:
    """Predicted cell id -> (annotation cell index, IoU) for the pairs that are the
    same cell: IoU above `min_iou`, each cell in at most one pair, best IoU first."""
    if not predicted or not cells:
        return {}
    cell_shapes = [outline_polygon(cell.cytoplasm) for cell in cells]
    tree = STRtree(cell_shapes)
    pairs = []
    for prediction in predicted:
        shape = outline_polygon(prediction.cytoplasm)
        for position in tree.query(shape, predicate="intersects"):
            other = cell_shapes[int(position)]
            union = shapely.union(shape, other).area
            iou = shapely.intersection(shape, other).area / union if union else 0.0
            if iou > min_iou:
                pairs.append((iou, prediction.id, cells[int(position)].index))
    # Greedy on IoU gives the best pairs first; a duplicate detection of a cell
    # already paired stays a cell of its own for the reviewer to reject.
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    links: dict[int, tuple[int, float]] = {}
    taken: set[int] = set()
    for iou, predicted_id, cell_index in pairs:
        if predicted_id in links or cell_index in taken:
            continue
        links[predicted_id] = (cell_index, float(iou))
        taken.add(cell_index)
    return links


def image_candidates(source: ReviewSource, image_key: str) -> list[ReviewCandidate]:
    """Every cell of one image, reviewed or not, in no particular order."""
    cells: list[Cell] = []
    if source.dataset is not None:
        try:
            cells = list(source.dataset.image(image_key).cells)
        except KeyError:
            cells = []
    predicted: list[PredictedCell] = []
    decisions: dict[int, PredictedDecision] = {}
    if source.store is not None and source.run is not None:
        predictions = source.store.load_cells(source.run, image_key)
        if predictions is not None:
            predicted = predictions.cells
        decisions = load_decisions(source.store, source.run, image_key)

    abnormal = source.abnormal_classes()
    links = link_predictions(predicted, cells)
    by_annotation = {index: (pid, iou) for pid, (index, iou) in links.items()}
    predicted_by_id = {cell.id: cell for cell in predicted}
    candidates = []
    for cell in cells:
        linked = by_annotation.get(cell.index)
        prediction = predicted_by_id[linked[0]] if linked else None
        probabilities = prediction.probabilities if prediction else cell.probabilities
        if prediction is not None:
            predicted_class = prediction.predicted_class or most_probable(probabilities)
        else:
            predicted_class = most_probable(probabilities)
        candidates.append(
            ReviewCandidate(
                image_key=image_key,
                annotation_index=cell.index,
                predicted_id=prediction.id if prediction else None,
                run=source.run if prediction else None,
                cytoplasm=cell.cytoplasm,
                nucleus=cell.nucleus,
                centre=outline_centre(cell.cytoplasm),
                bounds=outline_bounds(cell.cytoplasm),
                predicted_class=predicted_class,
                probabilities=probabilities,
                abnormal_probability=abnormal_probability(probabilities, abnormal),
                review_state=cell.review_state,
                annotation_class=cell.class_name,
                score=prediction.score if prediction else cell.score,
                overlap=linked[1] if linked else None,
                source=prediction.source if prediction else None,
                predicted_outline=prediction.cytoplasm if prediction else None,
            )
        )
    for prediction in predicted:
        if prediction.id in links:
            continue
        decision = decisions.get(prediction.id)
        candidates.append(
            ReviewCandidate(
                image_key=image_key,
                annotation_index=None,
                predicted_id=prediction.id,
                run=source.run,
                cytoplasm=prediction.cytoplasm,
                nucleus=prediction.nucleus,
                centre=outline_centre(prediction.cytoplasm),
                bounds=outline_bounds(prediction.cytoplasm),
                predicted_class=prediction.predicted_class
                or most_probable(prediction.probabilities),
                probabilities=prediction.probabilities,
                abnormal_probability=abnormal_probability(
                    prediction.probabilities, abnormal
                ),
                review_state=decision.review_state
                if decision
                else ReviewState.UNREVIEWED,
                annotation_class=decision.class_name if decision else None,
                score=prediction.score,
                source=prediction.source,
                predicted_outline=prediction.cytoplasm,
            )
        )
    return candidates


def collect_candidates(
    source: ReviewSource,
    image_keys: Iterable[str] | None = None,
    include_reviewed: bool = False,
) -> list[ReviewCandidate]:
    """The review queue of some images (all of the source's by default), most
    abnormal first; cells already reviewed are left out unless asked for."""
    keys = source.image_keys() if image_keys is None else list(image_keys)
    candidates = []
    for key in keys:
        candidates.extend(image_candidates(source, key))
    if not include_reviewed:
        candidates = [candidate for candidate in candidates if not candidate.reviewed]
    candidates.sort(key=ReviewCandidate.sort_key)
    log.debug("Review queue of %d images: %d cells", len(keys), len(candidates))
    return candidates


def group_by_class(
    candidates: Iterable[ReviewCandidate], scheme: ClassScheme | None = None
) -> dict[str | None, list[ReviewCandidate]]:
    """The candidates per predicted class, each group in the order given; classes
    in the scheme's order, then any others, then None (no prediction)."""
    groups: dict[str | None, list[ReviewCandidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.predicted_class, []).append(candidate)
    order = list(scheme.names) if scheme is not None else []

    def place(name: str | None) -> tuple:
        if name is None:
            return (2, 0, "")
        if name in order:
            return (0, order.index(name), name)
        return (1, 0, name)

    return {name: groups[name] for name in sorted(groups, key=place)}
