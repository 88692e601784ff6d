"""Flat outline arrays: the segments drawn, the coarser levels of detail, picking
a cell by a point, and the cells of an image indexed for the viewer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.annotations import Cell
from engine.images.cell_outlines import CellOutlines
from engine.images.outlines import MIN_VERTICES, OutlineSet
from engine.predictions import PredictedCell


def ellipse(cx, cy, rx, ry, vertices=64) -> np.ndarray:
    angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    return np.column_stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)])


def test_segments_close_every_outline_and_follow_its_vertices():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    triangle = np.array([[20, 0], [30, 0], [25, 8]], float)
    outlines = OutlineSet([square, triangle])

    segments = outlines.segments(np.array([1, 0]))

    assert segments.tolist() == [
        [20, 0, 30, 0],
        [30, 0, 25, 8],
        [25, 8, 20, 0],
        [0, 0, 10, 0],
        [10, 0, 10, 10],
        [10, 10, 0, 10],
        [0, 10, 0, 0],
    ]
    assert outlines.bounds.tolist() == [[0, 0, 10, 10], [20, 0, 30, 8]]
    assert outlines.centroids[0].tolist() == [5, 5]


def test_coarser_levels_halve_the_vertices_but_keep_a_round_cell():
    outlines = OutlineSet([ellipse(0, 0, 50, 40, 128), ellipse(200, 0, 5, 5, 12)])

    counts = [outlines.level(detail)[2].tolist() for detail in range(6)]

    assert counts[0] == [128, 12]
    assert counts[1] == [64, 12]  # the small cell has too few to lose any
    assert counts[2] == [32, 12]
    assert min(counts[5]) >= MIN_VERTICES
    coarse = outlines.level(5)[0][: counts[5][0]]
    radii = np.hypot(coarse[:, 0] / 50, coarse[:, 1] / 40)
    assert np.allclose(radii, 1.0)  # the kept vertices are on the outline


def test_zooming_out_picks_a_coarser_level():
    outlines = OutlineSet([ellipse(0, 0, 50, 50, 256)])

    assert outlines.detail_for(4.0) == 0
    assert outlines.detail_for(0.05) > outlines.detail_for(0.5) > 0


def test_a_point_is_inside_only_the_outlines_that_contain_it():
    outlines = OutlineSet(
        [ellipse(50, 50, 40, 30), ellipse(80, 50, 40, 30), ellipse(500, 500, 5, 5)]
    )

    assert outlines.containing(30, 50).tolist() == [0]
    assert outlines.containing(65, 50).tolist() == [0, 1]
    assert outlines.containing(50, 90).tolist() == []  # in the box, not the ellipse
    assert outlines.areas(np.array([0]))[0] == pytest.approx(
        math.pi * 40 * 30, rel=0.01
    )


def test_rings_repeat_each_first_vertex_and_break_between_outlines():
    outlines = OutlineSet([ellipse(0, 0, 5, 5, 4), ellipse(20, 0, 5, 5, 4)])

    xy, connected = outlines.rings(np.array([0, 1]))

    assert len(xy) == 10
    assert np.array_equal(xy[0], xy[4]) and np.array_equal(xy[5], xy[9])
    assert connected.tolist() == [True] * 4 + [False] + [True] * 4 + [False]


def _cell(index, cx, cy, radius, class_name="parabasal", nucleus=True):
    return Cell(
        index=index,
        cytoplasm=ellipse(cx, cy, radius, radius),
        nucleus=ellipse(cx, cy, radius / 3, radius / 3) if nucleus else None,
        class_name=class_name,
    )


def test_clicking_overlapping_cells_picks_the_one_whose_nucleus_is_clicked():
    big = _cell(7, 100, 100, 60, "superficial-intermediate")
    small = _cell(9, 140, 100, 30, "dyskeratotic")
    outlines = CellOutlines.from_cells([big, small], ["superficial-intermediate"])

    assert outlines.cell_ids[outlines.row_at(140, 100)] == 9  # small's nucleus
    assert outlines.cell_ids[outlines.row_at(100, 100)] == 7  # big's nucleus
    assert outlines.cell_ids[outlines.row_at(125, 110)] == 9  # smaller of the two
    assert outlines.row_at(400, 400) is None
    assert outlines.class_names == ["superficial-intermediate", "dyskeratotic"]
    assert outlines.row_of(9) == 1 and outlines.row_of(3) is None


def test_predicted_cells_keep_their_class_probabilities_and_scores():
    cells = [
        PredictedCell(
            id=4,
            cytoplasm=ellipse(10, 10, 8, 8),
            score=0.8,
            probabilities={"koilocytotic": 0.7, "parabasal": 0.3},
            predicted_class="koilocytotic",
        ),
        PredictedCell(id=5, cytoplasm=ellipse(50, 10, 8, 8)),
    ]

    outlines = CellOutlines.from_predictions(cells, ["parabasal", "koilocytotic"])

    assert outlines.class_names == ["parabasal", "koilocytotic", ""]
    assert outlines.class_codes.tolist() == [1, 2]
    assert outlines.probabilities[0].tolist() == [
        0.3,
        0.7,
        pytest.approx(np.nan, nan_ok=True),
    ]
    assert outlines.scores.tolist() == [0.8, 1.0]
    assert len(outlines.nuclei) == 0
