"""Every edit applies and reverts exactly, and a history of any length undoes to
the start and redoes to the end."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.annotations import Cell, ImageKind, ImageRecord, ReviewState
from engine.annotations.cell_json import cell_to_json
from engine.annotations.edits import (
    AddCell,
    DeleteCell,
    Edit,
    EditGroup,
    EditHistory,
    EditMismatchError,
    SetClass,
    SetOutline,
    SetReviewState,
)

CLASSES = ["parabasal", "koilocytotic", "dyskeratotic", "metaplastic"]


def state(image: ImageRecord) -> list[dict]:
    """Every field of every cell, in order: equal states are equal images."""
    return [cell_to_json(cell) for cell in image.cells]


def through_json(edit: Edit) -> Edit:
    return Edit.from_json(json.loads(json.dumps(edit.to_json())))


def test_a_new_outline_applies_and_reverts_exactly(memory_image):
    before = state(memory_image)
    outline = np.array([[12.5, 21.25], [61, 20], [58, 71], [9, 69]])
    edit = SetOutline.of(memory_image, 1, "cytoplasm", outline)

    edit.apply(memory_image)
    assert np.array_equal(memory_image.cell(1).cytoplasm, outline)
    assert state(memory_image)[1:] == before[1:]

    edit.revert(memory_image)
    assert state(memory_image) == before


def test_a_nucleus_can_be_removed_and_drawn_back(memory_image):
    before = state(memory_image)
    remove = SetOutline.of(memory_image, 2, "nucleus", None)

    remove.apply(memory_image)
    assert memory_image.cell(2).nucleus is None
    assert remove.text == "Remove the nucleus of cell 2"

    remove.revert(memory_image)
    assert state(memory_image) == before


def test_an_edit_applied_twice_is_refused_and_changes_nothing(memory_image):
    edit = SetOutline.of(memory_image, 1, "nucleus", [[25, 45], [35, 45], [30, 55]])
    edit.apply(memory_image)
    after = state(memory_image)

    with pytest.raises(
        EditMismatchError, match="im_Parabasal/001: the nucleus of cell 1"
    ):
        edit.apply(memory_image)
    assert state(memory_image) == after


def test_an_edit_keeps_its_own_copy_of_the_outlines(memory_image):
    outline = np.array([[12, 21], [61, 20], [58, 71], [9, 69]], dtype=float)
    edit = SetOutline.of(memory_image, 1, "cytoplasm", outline)
    edit.apply(memory_image)

    outline[0] = [0, 0]

    assert memory_image.cell(1).cytoplasm[0].tolist() == [12, 21]
    edit.revert(memory_image)
    assert memory_image.cell(1).cytoplasm[0].tolist() == [10, 20]


def test_a_new_cell_takes_the_next_index_free_on_disk_and_keeps_it_on_redo(
    memory_image,
):
    before = state(memory_image)
    history = EditHistory(memory_image)
    cell = Cell(
        index=0,
        cytoplasm=[[5, 75], [40, 75], [20, 95]],
        nucleus=None,
        class_name="metaplastic",
    )

    history.do(AddCell(cell))
    # Cell 4 is not loaded but its files are on disk: the new cell must not take 4.
    assert [c.index for c in memory_image.cells] == [1, 2, 3, 5]
    assert history.edits[0].text == "Add cell 5"

    history.undo()
    assert state(memory_image) == before
    history.redo()
    assert memory_image.cells[-1].index == 5
    assert memory_image.cells[-1].class_name == "metaplastic"


def test_an_isolated_cell_image_refuses_a_second_cell():
    image = ImageRecord(
        key="im_Parabasal/CROPPED/001_01",
        path=Path("001_01.bmp"),
        folder_class="parabasal",
        kind=ImageKind.CROPPED,
        stem="001_01",
        cells=[Cell(1, [[1, 1], [9, 1], [5, 9]], None, "parabasal")],
        used_indices={1},
    )
    new = Cell(0, [[2, 2], [8, 2], [5, 8]], None, "parabasal")

    with pytest.raises(EditMismatchError, match="holds exactly one cell"):
        AddCell(new).apply(image)
    assert len(image.cells) == 1


def test_a_deleted_cell_comes_back_whole_in_its_place(memory_image):
    memory_image.cell(2).review_state = ReviewState.ACCEPTED
    memory_image.cell(2).probabilities = {"parabasal": 0.9, "koilocytotic": 0.1}
    before = state(memory_image)
    edit = DeleteCell.of(memory_image, 2)

    edit.apply(memory_image)
    assert [cell.index for cell in memory_image.cells] == [1, 3]

    edit.revert(memory_image)
    assert state(memory_image) == before


def test_setting_a_class_on_several_cells_reverts_each_to_its_own(memory_image):
    memory_image.cell(3).class_name = "dyskeratotic"
    before = state(memory_image)
    edit = SetClass.of(memory_image, [1, 3], "koilocytotic")

    edit.apply(memory_image)
    assert [cell.class_name for cell in memory_image.cells] == [
        "koilocytotic",
        "parabasal",
        "koilocytotic",
    ]
    assert edit.text == "Set the class of 2 cells to koilocytotic"

    edit.revert(memory_image)
    assert state(memory_image) == before


def test_a_review_decision_reverts_to_unreviewed(memory_image):
    before = state(memory_image)
    edit = SetReviewState.of(memory_image, [2], "rejected")

    edit.apply(memory_image)
    assert memory_image.cell(2).review_state is ReviewState.REJECTED
    assert edit.text == "Mark cell 2 rejected"

    edit.revert(memory_image)
    assert state(memory_image) == before


def test_a_group_is_all_or_nothing(memory_image):
    before = state(memory_image)
    stale = SetOutline(3, "nucleus", [[1, 1], [2, 1], [2, 2]], None)
    group = EditGroup([SetClass.of(memory_image, [3], "koilocytotic"), stale])

    with pytest.raises(EditMismatchError):
        group.apply(memory_image)

    assert state(memory_image) == before


@pytest.mark.parametrize(
    "make",
    [
        lambda image: SetOutline.of(
            image, 1, "cytoplasm", [[0.1, 0.2], [50, 3], [7, 9]]
        ),
        lambda image: SetOutline.of(image, 2, "nucleus", None),
        lambda image: AddCell(Cell(0, [[1, 1], [9, 1], [5, 9]], None, "koilocytotic")),
        lambda image: DeleteCell.of(image, 3),
        lambda image: SetClass.of(image, [1, 2], "metaplastic"),
        lambda image: SetReviewState.of(image, [3], ReviewState.CORRECTED),
        lambda image: EditGroup(
            [DeleteCell.of(image, 1), SetClass.of(image, [2], "dyskeratotic")],
            "Merge",
        ),
    ],
)
def test_every_edit_survives_json_and_still_applies_exactly(memory_image, make):
    edit = make(memory_image)
    original = state(memory_image)
    edit.apply(memory_image)
    expected = state(memory_image)
    edit.revert(memory_image)

    decoded = through_json(edit)
    decoded.apply(memory_image)

    assert decoded.to_json() == edit.to_json()
    assert type(decoded) is type(edit)
    assert state(memory_image) == expected
    decoded.revert(memory_image)
    assert state(memory_image) == original


def test_doing_an_edit_after_an_undo_drops_the_undone_ones(memory_image):
    history = EditHistory(memory_image)
    history.do(SetClass.of(memory_image, [1], "koilocytotic"))
    history.do(SetClass.of(memory_image, [2], "koilocytotic"))
    history.undo()

    history.do(SetClass.of(memory_image, [3], "metaplastic"))

    assert len(history) == 2 and not history.can_redo
    assert history.redo() is None
    assert [cell.class_name for cell in memory_image.cells] == [
        "koilocytotic",
        "parabasal",
        "metaplastic",
    ]
    assert history.undo() is not None and history.undo() is not None
    assert history.undo() is None


def test_a_thousand_step_history_undoes_to_the_start(memory_image):
    original = state(memory_image)
    history = EditHistory(memory_image)
    rng = np.random.default_rng(3)
    for step in range(1000):
        indices = [cell.index for cell in memory_image.cells]
        index = int(rng.choice(indices))
        if step % 5 == 0:
            outline = rng.uniform(0, 100, size=(6, 2))
            history.do(SetOutline.of(memory_image, index, "cytoplasm", outline))
        elif step % 5 == 1:
            history.do(SetClass.of(memory_image, [index], str(rng.choice(CLASSES))))
        elif step % 5 == 2 and len(indices) > 1:
            history.do(DeleteCell.of(memory_image, index))
        elif step % 5 == 3:
            cell = Cell(0, rng.uniform(0, 100, size=(5, 2)), None, "parabasal")
            history.do(AddCell(cell))
        else:
            history.do(SetReviewState.of(memory_image, [index], "accepted"))
    edited = state(memory_image)

    while history.undo() is not None:
        pass
    assert state(memory_image) == original
    while history.redo() is not None:
        pass
    assert state(memory_image) == edited


vertices = st.lists(
    st.tuples(
        st.floats(0, 200, allow_nan=False, allow_infinity=False),
        st.floats(0, 100, allow_nan=False, allow_infinity=False),
    ),
    min_size=3,
    max_size=8,
).map(np.array)


def draw_edit(data, image: ImageRecord) -> Edit:
    kinds = ["add"]
    if image.cells:
        kinds += ["cytoplasm", "nucleus", "no nucleus", "delete", "class", "review"]
        kinds += ["group"]
    kind = data.draw(st.sampled_from(kinds))
    if kind == "add":
        nucleus = data.draw(st.none() | vertices)
        state_ = data.draw(st.sampled_from(list(ReviewState)))
        cell = Cell(
            0, data.draw(vertices), nucleus, data.draw(st.sampled_from(CLASSES))
        )
        cell.review_state = state_
        return AddCell(cell)
    indices = [cell.index for cell in image.cells]
    index = data.draw(st.sampled_from(indices))
    chosen = data.draw(st.lists(st.sampled_from(indices), min_size=1, unique=True))
    if kind == "cytoplasm":
        return SetOutline.of(image, index, "cytoplasm", data.draw(vertices))
    if kind == "nucleus":
        return SetOutline.of(image, index, "nucleus", data.draw(vertices))
    if kind == "no nucleus":
        return SetOutline.of(image, index, "nucleus", None)
    if kind == "delete":
        return DeleteCell.of(image, index)
    if kind == "class":
        return SetClass.of(image, chosen, data.draw(st.sampled_from(CLASSES)))
    if kind == "review":
        return SetReviewState.of(image, chosen, data.draw(st.sampled_from(ReviewState)))
    return EditGroup(
        [
            SetOutline.of(image, index, "cytoplasm", data.draw(vertices)),
            SetReviewState.of(image, [index], ReviewState.CORRECTED),
        ]
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_random_edits_undo_and_redo_through_every_state_exactly(memory_image, data):
    # Each example edits its own copy; the fixture is made once per test.
    image = copy.deepcopy(memory_image)
    history = EditHistory(image)
    states = [state(image)]  # states[i]: the image with the first i edits applied
    for _ in range(data.draw(st.integers(1, 30))):
        action = data.draw(st.sampled_from(["do", "do", "do", "undo", "redo"]))
        if action == "undo":
            history.undo()
        elif action == "redo":
            history.redo()
        else:
            edit = draw_edit(data, image)
            if data.draw(st.booleans()):
                edit = through_json(edit)
            free = image.next_free_index()
            history.do(edit)
            if isinstance(edit, AddCell):
                assert image.cells[-1].index == free
            del states[history.position :]
            states.append(state(image))
        assert state(image) == states[history.position]
    reached = history.position

    while history.undo() is not None:
        pass
    assert state(image) == states[0]
    while history.redo() is not None:
        pass
    assert state(image) == states[-1]
    assert len(states) == len(history) + 1 >= reached + 1
