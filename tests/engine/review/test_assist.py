"""Model-assisted outlines: a click proposes the instance under it, else the U-Net
region around it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from engine.annotations import Origin, ReviewState
from engine.predictions import ImagePredictions, PredictedCell, PredictionStore
from engine.review import propose_outline


def test_a_click_in_a_predicted_cell_proposes_that_cell(sample):
    cell = sample.open().image(sample.koilo).cell(1)
    inside = Polygon(cell.cytoplasm).representative_point()
    proposal = propose_outline(
        (inside.x, inside.y), sample.koilo, sample.store, sample.run, sample.size
    )

    assert proposal.predicted_id == 1
    assert proposal.source == "maskrcnn"
    assert proposal.predicted_class == "koilocytotic"
    assert np.allclose(proposal.cytoplasm, cell.cytoplasm, atol=0.01)
    assert np.allclose(proposal.nucleus, cell.nucleus, atol=0.01)


def test_of_overlapping_cells_the_smallest_is_proposed(tmp_path):
    store = PredictionStore(tmp_path / "predictions")
    big = np.array([[10, 10], [90, 10], [90, 90], [10, 90]], dtype=np.float64)
    small = np.array([[40, 40], [60, 40], [60, 60], [40, 60]], dtype=np.float64)
    store.save_cells(
        "run-a",
        ImagePredictions(
            "img", (100, 100), [PredictedCell(1, big), PredictedCell(2, small)]
        ),
    )

    inner = propose_outline((50, 50), "img", store, "run-a", (100, 100))
    outer = propose_outline((20, 20), "img", store, "run-a", (100, 100))
    assert inner.predicted_id == 2
    assert outer.predicted_id == 1


def test_without_an_instance_the_unet_region_is_traced(sample):
    x, y = sample.meta_disc_centre
    proposal = propose_outline(
        (x + 4, y - 2), sample.meta, sample.store, sample.run, sample.size
    )

    assert proposal.source == "unet" and proposal.predicted_id is None
    cell = Polygon(proposal.cytoplasm)
    assert cell.is_valid
    # A disc of radius 10 traced through its boundary pixels' centres.
    assert cell.area == pytest.approx(math.pi * 10**2, rel=0.15)
    assert cell.centroid.distance(Point(x, y)) < 0.5
    nucleus = Polygon(proposal.nucleus)
    assert cell.covers(nucleus)
    assert nucleus.area == pytest.approx(math.pi * 3**2, rel=0.5)
    assert nucleus.centroid.distance(Point(x, y)) < 0.5

    added = proposal.to_cell("metaplastic")
    assert added.origin is Origin.MODEL and added.review_state is ReviewState.ACCEPTED
    assert added.class_name == "metaplastic"


def test_nothing_is_proposed_where_no_model_saw_a_cell(sample):
    x, y = sample.meta_disc_centre
    assert (
        propose_outline((x + 15, y), sample.meta, sample.store, sample.run, sample.size)
        is None
    )
    # No instance under the point and no mask stored for the image.
    corner = sample.para_empty_square[2] + 20
    assert (
        propose_outline(
            tuple(corner), sample.para, sample.store, sample.run, sample.size
        )
        is None
    )
    assert (
        propose_outline((300, 10), sample.meta, sample.store, sample.run, sample.size)
        is None
    )
