"""Masks traced into outlines: drawn back they give the mask, and they are valid."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon

from engine.annotations.importers.contours import fit_inside, trace_outline


@pytest.mark.parametrize("radius", [2, 3, 5, 8, 12])
def test_a_small_round_nucleus_is_drawn_back_pixel_for_pixel(radius, masks):
    mask = masks.disk((40, 40), (20, 19), radius)

    outline = trace_outline(mask)

    assert outline is not None
    assert np.array_equal(masks.drawn(outline.vertices, mask.shape), mask)
    assert np.all(outline.vertices == np.round(outline.vertices))
    assert outline.pieces == 1 and outline.holes == 0


def test_a_one_pixel_spur_gives_a_valid_polygon_and_is_counted(masks):
    mask = np.zeros((30, 30), dtype=bool)
    mask[10:20, 10:20] = True
    mask[3:10, 14] = True  # a one-pixel-wide hair sticking out of the cell

    outline = trace_outline(mask)

    assert Polygon(outline.vertices).is_valid
    assert 6 <= outline.lost_pixels <= 7  # the hair, perhaps less its root
    assert masks.dice(masks.drawn(outline.vertices, mask.shape), mask) >= 0.95


def test_the_largest_piece_is_kept_and_the_rest_counted(masks):
    mask = masks.disk((50, 50), (20, 20), 10)
    mask[40:43, 40:43] = True  # a stray blob of 9 pixels

    outline = trace_outline(mask)

    assert outline.pieces == 2
    assert outline.dropped_pixels == 9
    assert not masks.drawn(outline.vertices, mask.shape)[40:43, 40:43].any()


def test_holes_are_filled_and_counted(masks):
    mask = masks.disk((50, 50), (25, 25), 15)
    mask[20:23, 20:23] = False

    outline = trace_outline(mask)

    assert outline.holes == 1
    assert outline.hole_pixels == 9
    assert masks.drawn(outline.vertices, mask.shape)[20:23, 20:23].all()


@pytest.mark.parametrize("pixels", [[], [(5, 5)], [(5, 5), (5, 6), (5, 7)]])
def test_nothing_to_outline_gives_none(pixels, masks):
    mask = np.zeros((12, 12), dtype=bool)
    for y, x in pixels:
        mask[y, x] = True

    assert trace_outline(mask) is None


def test_a_nucleus_traced_from_a_subset_of_the_cell_lies_inside_it(masks):
    rng = np.random.default_rng(3)
    for _ in range(40):
        cell = masks.disk((60, 60), (30, 30), int(rng.integers(8, 25)))
        cell &= rng.random((60, 60)) > 0.08  # ragged, with holes and notches
        outline = trace_outline(cell)
        inside = cell & masks.drawn(outline.vertices, cell.shape)
        nucleus_mask = inside & masks.disk((60, 60), tuple(rng.integers(15, 45, 2)), 6)
        nucleus = trace_outline(nucleus_mask)
        if nucleus is None:
            continue

        fitted = fit_inside(nucleus.vertices, outline.vertices)

        assert Polygon(outline.vertices).covers(Polygon(fitted))


def test_a_nucleus_poking_out_of_its_cell_is_clipped_to_it(masks):
    cell = np.array([[10, 10], [30, 10], [30, 30], [10, 30]], dtype=float)
    nucleus = np.array([[25, 15], [33, 15], [33, 22], [25, 22]], dtype=float)

    fitted = fit_inside(nucleus, cell)

    assert Polygon(cell).covers(Polygon(fitted))
    assert fitted[:, 0].max() == 30
    assert fit_inside(nucleus + 40, cell) is None
