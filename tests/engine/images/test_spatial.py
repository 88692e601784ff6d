"""The grid index finds exactly the boxes a region meets, however many there are."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.images.spatial import GridIndex


def _brute_force(bounds: np.ndarray, rect) -> np.ndarray:
    x_min, y_min, x_max, y_max = rect
    return np.flatnonzero(
        (bounds[:, 0] <= x_max)
        & (bounds[:, 2] >= x_min)
        & (bounds[:, 1] <= y_max)
        & (bounds[:, 3] >= y_min)
    )


def _boxes(count: int, seed: int, extent: float = 10000.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    corners = rng.random((count, 2)) * extent
    sizes = rng.random((count, 2)) * 80 + 5
    return np.column_stack([corners, corners + sizes])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 1000),
    x=st.floats(-500, 10500),
    y=st.floats(-500, 10500),
    width=st.floats(0, 12000),
    height=st.floats(0, 12000),
)
def test_a_query_returns_exactly_the_overlapping_boxes(seed, x, y, width, height):
    bounds = _boxes(3000, seed)
    index = GridIndex(bounds)
    rect = (x, y, x + width, y + height)

    found = index.query(*rect)

    assert np.array_equal(found, _brute_force(bounds, rect))


def test_a_small_window_on_many_boxes_returns_few_and_skips_the_rest():
    bounds = _boxes(100_000, seed=1, extent=50_000.0)
    index = GridIndex(bounds)

    found = index.query(1000, 1000, 2000, 1600)

    assert 0 < len(found) < 200
    assert np.array_equal(found, _brute_force(bounds, (1000, 1000, 2000, 1600)))


def test_a_point_finds_the_boxes_under_it_and_nothing_far_away():
    bounds = np.array([[0, 0, 10, 10], [5, 5, 20, 20], [100, 100, 110, 110]], float)
    index = GridIndex(bounds)

    assert index.at_point(7, 7).tolist() == [0, 1]
    assert index.at_point(105, 101).tolist() == [2]
    assert index.at_point(50, 50).tolist() == []


def test_an_empty_index_answers_with_nothing():
    index = GridIndex(np.empty((0, 4)))

    assert index.query(0, 0, 100, 100).tolist() == []
