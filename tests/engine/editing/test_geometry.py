"""Outlines stay valid polygons and a nucleus stays inside its cell."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from engine.annotations.errors import GeometryError
from engine.annotations.geometry import (
    clean_outline,
    delete_vertices,
    fit_nucleus,
    insert_vertex,
    move_vertex,
    nearest_edge,
    nearest_vertex,
    nucleus_fits,
    signed_area,
    translate,
)

SQUARE = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], dtype=float)


def test_a_valid_outline_comes_back_unchanged_and_the_input_is_not_touched():
    vertices = np.array([[10.5, 10], [60, 12], [55, 70], [8, 66]])
    kept = vertices.copy()

    cleaned = clean_outline(vertices, image_size=(200, 100))

    assert np.array_equal(cleaned, kept)
    assert np.array_equal(vertices, kept)
    assert cleaned is not vertices


def test_repeated_vertices_are_dropped_including_the_closing_repeat():
    drawn = [[0, 0], [0, 0], [100, 0], [100, 100], [100, 100], [0, 100], [0, 0]]

    assert np.array_equal(clean_outline(drawn), SQUARE)


def test_a_small_bow_tie_loop_is_cut_off_at_the_crossing():
    # The top edge doubles back on itself, making a tiny twisted loop.
    drawn = [[0, 0], [100, 0], [100, 100], [40, 105], [60, 105], [0, 100]]

    cleaned = clean_outline(drawn)

    polygon = Polygon(cleaned)
    assert polygon.is_valid
    assert polygon.area == pytest.approx(100 * 100 + 100 * 4.1667 / 2, rel=1e-3)
    assert [50, 104.1667] == pytest.approx(cleaned[3].tolist(), abs=1e-3)
    # Drawn anticlockwise from (0, 0): the repair keeps both.
    assert cleaned[0].tolist() == [0, 0]
    assert signed_area(cleaned) > 0


def test_the_repair_keeps_the_direction_the_outline_was_drawn_in():
    drawn = [[0, 100], [60, 105], [40, 105], [100, 100], [100, 0], [0, 0]]

    cleaned = clean_outline(drawn)

    assert cleaned[0].tolist() == [0, 100]
    assert signed_area(cleaned) < 0


def test_a_zero_width_spike_is_removed():
    drawn = [[0, 0], [10, 0], [10, 10], [5, 10], [5, 20], [5, 10], [0, 10]]

    cleaned = clean_outline(drawn)

    assert cleaned.tolist() == [[0, 0], [10, 0], [10, 10], [5, 10], [0, 10]]


def test_an_even_bow_tie_is_refused_with_where_it_crosses():
    with pytest.raises(GeometryError) as raised:
        clean_outline([[0, 0], [10, 10], [10, 0], [0, 10]])

    assert "the outline crosses itself near (5, 5); redraw it" in str(raised.value)


def test_an_outline_folded_into_two_big_lobes_is_refused():
    # Folded into lobes of 55 %, 34 % and 11 % of the area: no safe guess.
    drawn = [[0, 0], [80, 0], [80, 80], [140, 20], [140, 80], [0, 0]]

    with pytest.raises(GeometryError, match="crosses itself"):
        clean_outline(drawn)


@pytest.mark.parametrize(
    ("drawn", "message"),
    [
        ([[0, 0], [5, 5]], "at least 3 distinct points, this one has 2"),
        ([[0, 0], [5, 5], [0, 0], [5, 5]], "at least 3 distinct points"),
        ([[0, 0], [5, 5], [10, 10]], "encloses no area"),
        ([[0, 0], [5, np.nan], [10, 0]], "not a number"),
    ],
)
def test_outlines_that_enclose_nothing_are_refused(drawn, message):
    with pytest.raises(GeometryError, match=message):
        clean_outline(drawn)


def test_vertices_outside_the_image_are_snapped_to_its_edge():
    drawn = [[-5, -3], [300, -1], [250, 200], [-0.5, 191.5]]

    cleaned = clean_outline(drawn, image_size=(256, 192))

    assert cleaned.tolist() == [[0, 0], [255, 0], [250, 191], [0, 191]]


def test_an_outline_entirely_outside_the_image_collapses_and_is_refused():
    with pytest.raises(GeometryError):
        clean_outline([[300, 10], [320, 10], [320, 30]], image_size=(256, 192))


def test_a_nucleus_inside_fits_and_is_kept_as_drawn():
    nucleus = np.array([[40, 40], [60, 40], [60, 60], [40, 60]], dtype=float)

    assert nucleus_fits(SQUARE, nucleus)
    assert np.array_equal(fit_nucleus(SQUARE, nucleus), nucleus)


def test_a_nucleus_poking_out_a_little_is_clipped_to_its_cell():
    nucleus = np.array([[80, 40], [120, 40], [120, 60], [80, 60]], dtype=float)
    assert not nucleus_fits(SQUARE, nucleus)

    fitted = fit_nucleus(SQUARE, nucleus)

    assert Polygon(SQUARE).covers(Polygon(fitted))
    assert Polygon(fitted).area == pytest.approx(20 * 20)
    assert fitted[0].tolist() == [80, 40]
    assert nucleus_fits(SQUARE, fitted)


def test_a_nucleus_crossing_by_a_pixel_is_within_the_saved_tolerance():
    nucleus = np.array([[40, 40], [100.2, 40], [100.2, 60], [40, 60]], dtype=float)

    assert nucleus_fits(SQUARE, nucleus)


@pytest.mark.parametrize("shift", [70, 200])
def test_a_nucleus_mostly_outside_is_refused(shift):
    nucleus = np.array([[40, 40], [80, 40], [80, 60], [40, 60]], dtype=float) + [
        shift,
        0,
    ]

    with pytest.raises(GeometryError, match="mostly outside its cell"):
        fit_nucleus(SQUARE, nucleus)


def test_inserting_a_vertex_puts_it_on_the_chosen_edge():
    assert insert_vertex(SQUARE, 1, (100, 50)).tolist()[1:4] == [
        [100, 0],
        [100, 50],
        [100, 100],
    ]
    # The last edge closes the outline: the new vertex ends the list.
    assert insert_vertex(SQUARE, 3, (0, 50)).tolist()[-1] == [0, 50]
    assert len(SQUARE) == 4


def test_deleting_vertices_keeps_at_least_three():
    assert delete_vertices(SQUARE, [2]).tolist() == [[0, 0], [100, 0], [0, 100]]

    with pytest.raises(GeometryError, match="at least 3 points"):
        delete_vertices(SQUARE, [0, 2])
    with pytest.raises(IndexError):
        delete_vertices(SQUARE, [7])


def test_moving_and_translating_return_new_outlines():
    moved = move_vertex(SQUARE, 2, (120, 130))
    shifted = translate(SQUARE, 5, -2)

    assert moved[2].tolist() == [120, 130]
    assert shifted[0].tolist() == [5, -2]
    assert SQUARE[2].tolist() == [100, 100]


def test_the_nearest_vertex_and_edge_are_found_with_their_distance():
    assert nearest_vertex(SQUARE, (97, 104)) == (2, 5.0)
    assert nearest_edge(SQUARE, (50, -3)) == (0, 3.0)
    assert nearest_edge(SQUARE, (-2, 60)) == (3, 2.0)
    index, distance = nearest_edge(SQUARE, (103, 104))
    assert index in (1, 2) and distance == pytest.approx(5.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-10, 50), st.integers(-10, 50)), min_size=3, max_size=10
    )
)
def test_any_scribble_becomes_a_valid_outline_on_the_image_or_a_clear_refusal(drawn):
    try:
        cleaned = clean_outline(drawn, image_size=(40, 30))
    except GeometryError as error:
        assert "redraw it" in str(error) or "at least 3 distinct points" in str(error)
        return

    polygon = Polygon(cleaned)
    assert polygon.is_valid and polygon.area > 0
    assert cleaned.min() >= 0
    assert cleaned[:, 0].max() <= 39 and cleaned[:, 1].max() <= 29
