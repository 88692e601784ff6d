"""The edits the window's tools make keep outlines valid, the nucleus inside its
cell, and save as what the reviewer saw."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon

from engine.annotations import Dataset
from engine.annotations.cell_json import cell_to_json
from engine.annotations.edit_tools import move_cell_edit, new_cell_edit, outline_edit
from engine.annotations.edits import DeleteCell, EditGroup, EditHistory, SetClass
from engine.annotations.errors import AnnotationError, GeometryError
from engine.annotations.geometry import nucleus_fits

KEY = "im_Parabasal/001"


def state(image) -> list[dict]:
    return [cell_to_json(cell) for cell in image.cells]


def one_decimal(vertices: np.ndarray) -> bool:
    return np.array_equal(np.round(vertices, 1), vertices)


def test_a_cell_outline_cutting_through_the_nucleus_clips_it_in_the_same_edit(smear):
    image = Dataset.open(smear).image(KEY)
    before = state(image)
    cell = image.cell(1)
    x_min, y_min = cell.nucleus.min(axis=0)
    x_max, y_max = cell.nucleus.max(axis=0)
    cut = x_min + 0.7 * (x_max - x_min)
    outline = [[x_min - 15, y_min - 15], [cut, y_min - 15], [cut, y_max + 15]]
    outline.append([x_min - 15, y_max + 15])
    history = EditHistory(image)

    edit = outline_edit(image, 1, "cytoplasm", outline)
    history.do(edit)

    assert isinstance(edit, EditGroup) and len(edit.edits) == 2
    assert edit.text == "Change the cytoplasm outline of cell 1"
    assert nucleus_fits(cell.cytoplasm, cell.nucleus)
    # The cut is stored to a tenth of a pixel, as the cell's files are written.
    assert cell.nucleus[:, 0].max() == pytest.approx(cut, abs=0.05)
    assert one_decimal(cell.nucleus)
    history.undo()
    assert state(image) == before


def test_a_crossed_outline_is_refused_and_the_cell_is_left_alone(smear):
    image = Dataset.open(smear).image(KEY)
    before = state(image)

    with pytest.raises(GeometryError, match=r"crosses itself near \(50, 50\)"):
        outline_edit(image, 2, "cytoplasm", [[0, 0], [100, 100], [100, 0], [0, 100]])

    assert state(image) == before


def test_a_nucleus_drawn_mostly_outside_its_cell_is_refused(smear):
    image = Dataset.open(smear).image(KEY)
    x_max = image.cell(3).cytoplasm[:, 0].max()
    y = image.cell(3).cytoplasm[:, 1].mean()
    nucleus = [[x_max - 2, y - 5], [x_max + 20, y - 5], [x_max + 20, y + 5]]

    with pytest.raises(GeometryError, match="mostly outside its cell"):
        outline_edit(image, 3, "nucleus", nucleus)


def test_an_edited_outline_saves_as_shown_and_reopens_without_problems(smear):
    dataset = Dataset.open(smear)
    image = dataset.image(KEY)
    cell = image.cell(4)
    centre = cell.cytoplasm.mean(axis=0)
    # A hand-drawn outline in screen coordinates, finer than the files store.
    angles = np.linspace(0, 2 * np.pi, 30, endpoint=False)
    drawn = centre + np.column_stack([np.cos(angles), np.sin(angles)]) * 30.123456

    outline_edit(image, 4, "cytoplasm", drawn).apply(image)
    shown = state(image)
    dataset.save(image, author="reviewer")

    reopened = Dataset.open(smear)
    assert reopened.problems == []
    assert state(reopened.image(KEY)) == shown
    assert one_decimal(image.cell(4).cytoplasm)


def test_a_drawn_cell_takes_the_next_free_index_and_its_neighbours_style(smear):
    dataset = Dataset.open(smear)
    image = dataset.image(KEY)
    next_index = max(cell.index for cell in image.cells) + 1
    cytoplasm = [[200.04, 150], [255, 150], [255, 191], [200, 191]]
    nucleus = [[240, 160], [270, 160], [270, 180], [240, 180]]

    edit = new_cell_edit(image, cytoplasm, nucleus)
    EditHistory(image).do(edit)

    cell = image.cells[-1]
    assert cell.index == next_index
    assert cell.class_name == "parabasal"
    assert cell.cytoplasm_style == image.cells[0].cytoplasm_style
    assert cell.cytoplasm[0].tolist() == [200.0, 150.0]
    assert Polygon(cell.cytoplasm).covers(Polygon(cell.nucleus))
    dataset.save(image)
    assert (image.annotation_dir / f"001_cyt{next_index:02d}.dat").is_file()
    assert (image.annotation_dir / f"001_nuc{next_index:02d}.dat").is_file()


def test_an_isolated_cell_image_refuses_a_drawn_second_cell(smear):
    image = Dataset.open(smear).image("im_Parabasal/CROPPED/001_01")

    with pytest.raises(AnnotationError, match="holds exactly one cell"):
        new_cell_edit(image, [[1, 1], [10, 1], [10, 10]])


def test_a_cell_moved_against_the_image_edge_is_flattened_with_its_nucleus_inside(
    smear,
):
    image = Dataset.open(smear).image(KEY)
    before = state(image)
    cell = image.cell(5)
    x_min = cell.cytoplasm[:, 0].min()
    nucleus_width = np.ptp(cell.nucleus[:, 0])
    history = EditHistory(image)

    history.do(move_cell_edit(image, 5, -x_min - nucleus_width / 2, 0))

    assert cell.cytoplasm[:, 0].min() == 0
    assert Polygon(cell.cytoplasm).is_valid
    assert nucleus_fits(cell.cytoplasm, cell.nucleus)
    assert history.edits[0].text == "Move cell 5"
    history.undo()
    assert state(image) == before


def test_a_cell_moved_off_the_image_is_refused(smear):
    image = Dataset.open(smear).image(KEY)

    with pytest.raises(GeometryError):
        move_cell_edit(image, 1, -1000, 0)


def test_a_class_change_saved_with_a_deleted_cell_survives_reopening(smear):
    dataset = Dataset.open(smear)
    image = dataset.image(KEY)
    history = EditHistory(image)
    history.do(SetClass.of(image, [2], "koilocytotic"))
    history.do(DeleteCell.of(image, 3))

    dataset.save(image)

    reopened = Dataset.open(smear).image(KEY)
    assert reopened.cell(2).class_name == "koilocytotic"
    assert 3 not in {cell.index for cell in reopened.cells}
