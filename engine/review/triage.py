"""Triage decisions on review candidates: accept the model's class, reject, or
reclassify, each returned as the edits to apply so the window can undo them.

Changes to a dataset's cells are `engine.annotations.edits` records, applied to
the candidate's image and written by `Dataset.save`. A cell that only a model
drew becomes a new annotation cell (origin MODEL) when accepted or reclassified
in a dataset; rejected, or decided on a slide that has no annotations, it is
recorded in the run's decisions file, which is written as soon as it is applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from engine.annotations.cells import Origin, ReviewState
from engine.annotations.dataset import Dataset, new_cell
from engine.annotations.edits import AddCell, Edit, EditGroup, SetClass, SetReviewState
from engine.annotations.importers.contours import fit_inside
from engine.predictions.store import PredictionStore
from engine.review.decisions import RecordDecision
from engine.review.errors import ReviewError
from engine.review.ranking import ReviewCandidate

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Triage:
    """The edits of one decision: `edit` for the image's annotation cells,
    `decision` for the run's decisions file; either may be None."""

    image_key: str
    text: str
    edit: Edit | None = None
    decision: RecordDecision | None = None

    def apply(self, dataset: Dataset | None = None) -> None:
        """Make the decision: edit the image in memory, write the decision file."""
        if self.edit is not None:
            self.edit.apply(_image(dataset, self.image_key))
        if self.decision is not None:
            self.decision.apply()

    def revert(self, dataset: Dataset | None = None) -> None:
        """Take the decision back."""
        if self.decision is not None:
            self.decision.revert()
        if self.edit is not None:
            self.edit.revert(_image(dataset, self.image_key))


def _image(dataset: Dataset | None, image_key: str):
    if dataset is None:
        raise ReviewError(
            f"{image_key}: this decision changes annotation cells and needs the "
            "dataset they belong to"
        )
    return dataset.image(image_key)


def accept(
    candidate: ReviewCandidate,
    dataset: Dataset | None = None,
    store: PredictionStore | None = None,
) -> Triage:
    """The model's class is right: the cell takes it and is marked accepted."""
    if candidate.predicted_class is None:
        if candidate.annotation_index is None:
            raise ReviewError(
                f"{candidate.image_key}: {candidate.ref} has no predicted class; "
                "reclassify it instead"
            )
        # No model has a class for it: accepting confirms the person's class.
        class_name = candidate.annotation_class
    else:
        class_name = candidate.predicted_class
    return _decide(candidate, class_name, ReviewState.ACCEPTED, dataset, store)


def reclassify(
    candidate: ReviewCandidate,
    class_name: str,
    dataset: Dataset | None = None,
    store: PredictionStore | None = None,
) -> Triage:
    """The cell is of another class: it takes `class_name` and is marked corrected."""
    return _decide(candidate, class_name, ReviewState.CORRECTED, dataset, store)


def reject(
    candidate: ReviewCandidate,
    dataset: Dataset | None = None,
    store: PredictionStore | None = None,
) -> Triage:
    """The outline is not a cell (or not one worth keeping): it is marked rejected;
    a predicted cell is remembered as rejected so it does not come back."""
    if candidate.annotation_index is not None:
        image = _image(dataset, candidate.image_key)
        edit = SetReviewState.of(
            image, [candidate.annotation_index], ReviewState.REJECTED
        )
        return Triage(candidate.image_key, edit.text, edit=edit)
    decision = _record(candidate, store, ReviewState.REJECTED, None)
    return Triage(candidate.image_key, decision.text, decision=decision)


def _decide(
    candidate: ReviewCandidate,
    class_name: str,
    state: ReviewState,
    dataset: Dataset | None,
    store: PredictionStore | None,
) -> Triage:
    scheme = dataset.scheme if dataset is not None else None
    if scheme is not None and class_name not in scheme.names:
        raise ReviewError(
            f"{candidate.image_key}: {class_name!r} is not a class of this dataset "
            f"({', '.join(scheme.names)})"
        )
    if candidate.annotation_index is not None:
        image = _image(dataset, candidate.image_key)
        index = candidate.annotation_index
        edits: list[Edit] = []
        if image.cell(index).class_name != class_name:
            edits.append(SetClass.of(image, [index], class_name))
        edits.append(SetReviewState.of(image, [index], state))
        verb = "Accept" if state is ReviewState.ACCEPTED else "Reclassify"
        text = f"{verb} cell {index} as {class_name}"
        return Triage(candidate.image_key, text, edit=EditGroup(edits, text))
    if dataset is None:
        decision = _record(candidate, store, state, class_name)
        return Triage(candidate.image_key, decision.text, decision=decision)
    cell = new_cell(
        *_valid_outlines(candidate),
        class_name,
        origin=Origin.MODEL,
        score=candidate.score,
        review_state=state,
        probabilities=None
        if candidate.probabilities is None
        else dict(candidate.probabilities),
    )
    text = f"Add predicted cell {candidate.predicted_id} as {class_name}"
    return Triage(candidate.image_key, text, edit=AddCell(cell))


def _record(
    candidate: ReviewCandidate,
    store: PredictionStore | None,
    state: ReviewState,
    class_name: str | None,
) -> RecordDecision:
    if store is None or candidate.run is None:
        raise ReviewError(
            f"{candidate.image_key}: {candidate.ref} is a model's cell; deciding "
            "about it needs the prediction store of its run"
        )
    return RecordDecision.of(
        store,
        candidate.run,
        candidate.image_key,
        int(candidate.predicted_id),
        state,
        class_name,
    )


def _largest_valid(vertices: np.ndarray) -> np.ndarray | None:
    """The outline itself when it is a valid polygon, else its largest valid part
    (a model's outline can cross itself); None when it encloses no area."""
    polygon = Polygon(vertices)
    if polygon.is_valid and polygon.area > 0:
        return vertices
    repaired = shapely.make_valid(polygon)
    parts = [
        part
        for part in getattr(repaired, "geoms", [repaired])
        if isinstance(part, Polygon) and part.area > 0
    ]
    if not parts:
        return None
    body = max(parts, key=lambda part: part.area)
    return np.asarray(body.exterior.coords, dtype=np.float64)[:-1]


def _valid_outlines(candidate: ReviewCandidate) -> tuple[np.ndarray, np.ndarray | None]:
    """The predicted outline as a valid polygon and its nucleus inside it, as a
    saved SIPaKMeD cell needs them."""
    cytoplasm = _largest_valid(np.asarray(candidate.cytoplasm, dtype=np.float64))
    if cytoplasm is None:
        raise ReviewError(
            f"{candidate.image_key}: the outline of {candidate.ref} encloses no "
            "area; draw the cell instead"
        )
    nucleus = None
    if candidate.nucleus is not None and len(candidate.nucleus) >= 3:
        nucleus = _largest_valid(np.asarray(candidate.nucleus, dtype=np.float64))
        if nucleus is not None:
            nucleus = fit_inside(nucleus, cytoplasm)
        if nucleus is None:
            log.info(
                "%s: the nucleus of %s is not inside its cell and was left out",
                candidate.image_key,
                candidate.ref,
            )
    return cytoplasm, nucleus
