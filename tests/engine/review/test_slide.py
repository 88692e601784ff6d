"""Reviewing a slide opened on its own: predictions and a pyramidal U-Net mask in
the slide's store, decisions in its decisions file, thumbnails cut from the slide."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import tifffile
from shapely.geometry import Polygon

from engine.annotations import ReviewState
from engine.predictions import ImagePredictions, PredictedCell, PredictionStore
from engine.review import (
    ReviewSource,
    SlideImages,
    accept,
    collect_candidates,
    propose_outline,
    reject,
    summarise,
    training_queue,
    write_report,
)

SIZE = (1500, 1200)
CELL_CENTRE, CELL_RADIUS = (1000, 700), 40


def circle(centre, radius, points=48):
    angles = np.linspace(0, 2 * np.pi, points, endpoint=False)
    return np.stack(
        [centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)],
        axis=1,
    )


def write_tiled(path, rgb):
    tifffile.imwrite(
        path, rgb, tile=(256, 256), compression="zlib", photometric="rgb", ome=True
    )


@pytest.fixture(params=[1.0, 0.25], ids=["mask-at-level-0", "mask-at-unet-scale"])
def slide(tmp_path, request):
    """A pale slide with one stained cell; a run that found it (dyskeratotic) and a
    second cell that the U-Net does not see; the U-Net mask as an OME-TIFF, at the
    slide's resolution or, as the pipeline keeps it for a U-Net that sees the
    slide coarser, at a quarter of it."""
    mask_scale = request.param
    width, height = SIZE
    path = tmp_path / "smear.ome.tif"
    pixels = np.full((height, width, 3), 235, np.uint8)
    cv2.circle(pixels, CELL_CENTRE, CELL_RADIUS, (150, 190, 200), -1)
    cv2.circle(pixels, CELL_CENTRE, 12, (60, 40, 110), -1)
    write_tiled(path, pixels)

    store = PredictionStore.for_slide(path)
    store.save_cells(
        "run-a",
        ImagePredictions(
            "smear",
            SIZE,
            [
                PredictedCell(
                    1,
                    circle(CELL_CENTRE, CELL_RADIUS),
                    circle(CELL_CENTRE, 12),
                    probabilities={"dyskeratotic": 0.9, "parabasal": 0.1},
                ),
                PredictedCell(
                    2,
                    circle((300, 300), 30),
                    probabilities={"koilocytotic": 0.5, "parabasal": 0.5},
                ),
            ],
        ),
    )
    mask = np.zeros((height, width, 3), np.uint8)
    cv2.circle(mask, CELL_CENTRE, CELL_RADIUS, (230, 0, 0), -1)
    cv2.circle(mask, CELL_CENTRE, 12, (230, 220, 0), -1)
    if mask_scale != 1.0:
        mask_size = (round(width * mask_scale), round(height * mask_scale))
        mask = cv2.resize(mask, mask_size, interpolation=cv2.INTER_AREA)
    write_tiled(store.mask_path("run-a", "smear", pyramidal=True), mask)
    return path, store


def test_a_click_off_the_instances_uses_the_pyramidal_mask(slide):
    path, store = slide
    # Remove the instances so the mask is all that is left to propose from.
    predictions = store.load_cells("run-a", "smear")
    predictions.cells = []
    store.save_cells("run-a", predictions)

    proposal = propose_outline((1020, 690), "smear", store, "run-a", SIZE)
    assert proposal.source == "unet"
    cell = Polygon(proposal.cytoplasm)
    assert cell.area == pytest.approx(math.pi * CELL_RADIUS**2, rel=0.1)
    assert cell.centroid.distance(Polygon(circle(CELL_CENTRE, 1)).centroid) < 1
    assert Polygon(proposal.nucleus).area == pytest.approx(math.pi * 12**2, rel=0.2)
    assert propose_outline((200, 1000), "smear", store, "run-a", SIZE) is None


def test_the_training_queue_reads_the_slide_mask(slide):
    path, _ = slide
    queue = training_queue(ReviewSource.for_slide(path, "run-a"))

    by_id = {item.candidate.predicted_id: item for item in queue}
    assert by_id[1].mask_iou > 0.9
    assert by_id[2].mask_iou == 0.0  # the U-Net sees no cell there
    assert [item.candidate.predicted_id for item in queue] == [2, 1]


def test_slide_decisions_summary_and_report(slide, tmp_path):
    path, store = slide
    source = ReviewSource.for_slide(path, "run-a")
    first, second = collect_candidates(source)
    assert (first.predicted_id, second.predicted_id) == (1, 2)
    accept(first, store=store).apply()
    reject(second, store=store).apply()

    summary = summarise(source)
    assert (summary.total.cells, summary.total.accepted, summary.total.rejected) == (
        2,
        1,
        1,
    )
    assert summary.total.confirmed_abnormal == 1
    assert summary.confirmed_abnormal[0].review_state is ReviewState.ACCEPTED

    reader = SlideImages(path)
    try:
        report = write_report(summary, tmp_path / "slide.pdf", reader)
    finally:
        reader.close()
    assert report.read_bytes().count(b"/Subtype /Image") == 1
