"""What is painted agrees with the outlines, and the classes look different."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from engine.synthetic import (
    CLASS_NAMES,
    draw_cluster_image,
    draw_cluster_into,
    finish,
    new_background,
)


def _mask(vertices, shape):
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(vertices * 16).astype(np.int32)], 1, shift=4)
    return mask.astype(bool)


def _brightness(image):
    return image.astype(np.float64).mean(axis=2)


@pytest.mark.parametrize("class_name", CLASS_NAMES)
def test_nucleus_is_darker_than_cytoplasm_which_is_darker_than_background(class_name):
    image, cells = draw_cluster_image(np.random.default_rng(1), class_name)
    shape = image.shape[:2]
    brightness = _brightness(image)
    any_cell = np.zeros(shape, dtype=bool)
    any_nucleus = np.zeros(shape, dtype=bool)
    for cell in cells:
        any_cell |= _mask(cell.cytoplasm, shape)
        any_nucleus |= _mask(cell.nucleus, shape)
    near_cells = cv2.dilate(any_cell.astype(np.uint8), np.ones((15, 15))) > 0

    for cell in cells:
        nucleus = _mask(cell.nucleus, shape)
        cytoplasm = _mask(cell.cytoplasm, shape) & ~any_nucleus
        assert brightness[nucleus].mean() < brightness[cytoplasm].mean() - 20
    assert (
        brightness[any_cell & ~any_nucleus].mean() < brightness[~near_cells].mean() - 8
    )


@pytest.mark.parametrize("class_name", CLASS_NAMES)
def test_outline_follows_the_painted_edge(class_name):
    """Just inside a cell's outline is stained, just outside is bare slide."""
    image, cells = draw_cluster_image(np.random.default_rng(2), class_name)
    shape = image.shape[:2]
    brightness = _brightness(image)
    any_cell = np.zeros(shape, dtype=bool)
    for cell in cells:
        any_cell |= _mask(cell.cytoplasm, shape)
    kernel = np.ones((3, 3), np.uint8)
    inside_rim = any_cell & ~(
        cv2.erode(any_cell.astype(np.uint8), kernel, iterations=2) > 0
    )
    outside_ring = (
        cv2.dilate(any_cell.astype(np.uint8), kernel, iterations=3) > 0
    ) & ~(cv2.dilate(any_cell.astype(np.uint8), kernel, iterations=1) > 0)
    far = ~(cv2.dilate(any_cell.astype(np.uint8), kernel, iterations=10) > 0)

    assert brightness[inside_rim].mean() < brightness[outside_ring].mean() - 10
    assert abs(brightness[outside_ring].mean() - brightness[far].mean()) < 12


def _measure(class_name, images=6):
    areas, ratios, colours = [], [], []
    for seed in range(images):
        image, cells = draw_cluster_image(np.random.default_rng(seed), class_name)
        for cell in cells:
            cell_area = Polygon(cell.cytoplasm).area
            nucleus_area = Polygon(cell.nucleus).area
            areas.append(cell_area)
            ratios.append(nucleus_area / (cell_area - nucleus_area))
            cytoplasm = _mask(cell.cytoplasm, image.shape[:2]) & ~_mask(
                cell.nucleus, image.shape[:2]
            )
            colours.append(image[cytoplasm].astype(np.float64).mean(axis=0))
    return np.mean(areas), np.mean(ratios), np.mean(colours, axis=0)


def test_classes_differ_as_in_real_smears():
    superficial = _measure("superficial-intermediate")
    parabasal = _measure("parabasal")
    dyskeratotic = _measure("dyskeratotic")
    koilocytotic = _measure("koilocytotic")

    assert parabasal[0] < superficial[0] / 2.5
    assert parabasal[1] > 3 * superficial[1]
    assert koilocytotic[1] > superficial[1]
    assert dyskeratotic[0] < parabasal[0]
    red, _, blue = dyskeratotic[2]
    assert red - blue > 40  # keratinised: orange
    red, _, blue = parabasal[2]
    assert blue > red  # cyanophilic: blue-green


def test_koilocytes_have_a_clear_halo_around_the_nucleus():
    image, cells = draw_cluster_image(np.random.default_rng(3), "koilocytotic")
    brightness = _brightness(image)
    shape = image.shape[:2]
    for cell in cells:
        nucleus = _mask(cell.nucleus, shape).astype(np.uint8)
        around = (cv2.dilate(nucleus, np.ones((3, 3), np.uint8), iterations=5) > 0) & ~(
            cv2.dilate(nucleus, np.ones((3, 3), np.uint8), iterations=2) > 0
        )
        cell_mask = _mask(cell.cytoplasm, shape).astype(np.uint8)
        edge = (cell_mask > 0) & ~(
            cv2.erode(cell_mask, np.ones((3, 3)), iterations=4) > 0
        )
        assert brightness[around].mean() > brightness[edge].mean() + 10


def test_clusters_can_be_painted_into_regions_of_a_large_canvas():
    rng = np.random.default_rng(4)
    canvas = new_background(rng, (1200, 900), 2.5)
    regions = {
        "parabasal": ((50, 60), (400, 300)),
        "dyskeratotic": ((700, 500), (300, 300)),
    }
    painted = {}
    for class_name, (origin, extent) in regions.items():
        painted[class_name] = draw_cluster_into(
            canvas, rng, class_name, origin, extent, pixels_per_micron=2.5
        )
    image = finish(rng, canvas, 2.5)

    assert image.shape == (900, 1200, 3) and image.dtype == np.uint8
    for class_name, ((left, top), (width, height)) in regions.items():
        assert painted[class_name]
        for cell in painted[class_name]:
            x_min, y_min, x_max, y_max = cell.bounds
            assert left <= x_min and x_max <= left + width
            assert top <= y_min and y_max <= top + height
            assert cell.class_name == class_name
    with pytest.raises(TypeError):
        draw_cluster_into(image, rng, "parabasal")


@pytest.mark.parametrize("size", [(96, 64), (160, 480)])
def test_small_and_odd_sizes_still_give_valid_cells_inside_the_image(size):
    for class_name in CLASS_NAMES:
        image, cells = draw_cluster_image(np.random.default_rng(6), class_name, size)

        assert image.shape == (size[1], size[0], 3)
        assert cells
        for cell in cells:
            assert Polygon(cell.cytoplasm).is_valid
            assert Polygon(cell.cytoplasm).contains(Polygon(cell.nucleus))
            x_min, y_min, x_max, y_max = cell.bounds
            assert x_min >= 0 and y_min >= 0
            assert x_max <= size[0] - 1 and y_max <= size[1] - 1
