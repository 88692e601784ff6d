"""Per-cell measurements on outlines whose figures are known by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from engine.annotations import Cell, ImageKind, ImageRecord
from engine.metrics.measurements import measure_cell, measure_image

SQUARE = [[10, 10], [30, 10], [30, 30], [10, 30]]  # 20 x 20
NUCLEUS = [[16, 16], [24, 16], [24, 24], [16, 24]]  # 8 x 8


def _cell(cytoplasm=SQUARE, nucleus=NUCLEUS, index=1) -> Cell:
    return Cell(
        index=index, cytoplasm=cytoplasm, nucleus=nucleus, class_name="parabasal"
    )


def test_a_square_cell_with_a_square_nucleus():
    figures = measure_cell(_cell())

    assert figures.area == 400
    assert figures.perimeter == 80
    assert figures.nucleus_area == 64
    assert figures.nc_ratio == pytest.approx(64 / (400 - 64))
    assert figures.circularity == pytest.approx(math.pi / 4)
    assert figures.mean_nuclear_intensity is None  # no image given
    assert figures.area_unit == "px2"


def test_a_circle_is_nearly_perfectly_circular():
    angles = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    circle = np.column_stack([50 + 20 * np.cos(angles), 50 + 20 * np.sin(angles)])

    assert measure_cell(_cell(circle, None)).circularity == pytest.approx(1, abs=1e-3)


def test_a_cell_without_nucleus_has_no_nucleus_figures():
    figures = measure_cell(_cell(nucleus=None), np.zeros((40, 40, 3), np.uint8))

    assert figures.area == 400
    assert figures.nucleus_area is None
    assert figures.nc_ratio is None
    assert figures.mean_nuclear_intensity is None


def test_a_nucleus_filling_the_whole_cell_has_no_ratio():
    figures = measure_cell(_cell(nucleus=SQUARE))

    assert figures.nucleus_area == 400 and figures.nc_ratio is None


def test_mean_nuclear_intensity_is_the_grey_inside_the_nucleus():
    image = np.full((40, 40, 3), 200, dtype=np.uint8)
    image[16:25, 16:25] = (90, 30, 150)  # the nucleus, a purple stain
    grey = round(0.299 * 90 + 0.587 * 30 + 0.114 * 150)

    figures = measure_cell(_cell(), image)

    assert figures.mean_nuclear_intensity == pytest.approx(grey, abs=0.5)
    assert measure_cell(_cell(), image[:, :, 0]).mean_nuclear_intensity == 90


def test_a_nucleus_outside_the_image_has_no_intensity():
    outside = [[100, 100], [110, 100], [110, 110], [100, 110]]
    figures = measure_cell(
        _cell(cytoplasm=[[90, 90], [120, 90], [120, 120], [90, 120]], nucleus=outside),
        np.zeros((40, 40), np.uint8),
    )
    assert figures.mean_nuclear_intensity is None
    assert figures.nucleus_area == 100


def test_microns_per_pixel_scales_areas_and_lengths_only():
    figures = measure_cell(_cell(), microns_per_pixel=0.25)

    assert figures.area == pytest.approx(400 * 0.0625)
    assert figures.perimeter == pytest.approx(80 * 0.25)
    assert figures.nucleus_area == pytest.approx(64 * 0.0625)
    assert figures.nc_ratio == pytest.approx(64 / 336)
    assert figures.circularity == pytest.approx(math.pi / 4)
    assert figures.area_unit == "um2" and figures.length_unit == "um"


def test_measure_image_measures_every_cell_of_the_image():
    record = ImageRecord(
        key="im_Parabasal/001",
        path=Path("001.bmp"),
        folder_class="parabasal",
        kind=ImageKind.CLUSTER,
        stem="001",
        cells=[_cell(), _cell(nucleus=None, index=2)],
        size=(40, 40),
    )
    image = np.full((40, 40, 3), 120, dtype=np.uint8)

    figures = measure_image(record, image)

    assert [f.cell_index for f in figures] == [1, 2]
    assert {f.image_key for f in figures} == {"im_Parabasal/001"}
    assert figures[0].mean_nuclear_intensity == 120
    assert figures[1].mean_nuclear_intensity is None
