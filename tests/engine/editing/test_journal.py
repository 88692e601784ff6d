"""Unsaved edits survive a crash: journaled, listed, restored and saved; a journal
whose files changed on disk is reported, never applied."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.annotations import Dataset
from engine.annotations.cell_json import cell_to_json
from engine.annotations.datfile import DatStyle, format_dat, parse_dat
from engine.annotations.edit_tools import new_cell_edit, outline_edit
from engine.annotations.edits import DeleteCell, EditHistory, SetClass
from engine.annotations.journal import Journal, JournalError, StaleJournalError
from engine.errors import SaveError

KEY = "im_Parabasal/001"


def state(image) -> list[dict]:
    return [cell_to_json(cell) for cell in image.cells]


def edit_image(dataset: Dataset) -> EditHistory:
    """Change cell 1's outline and cell 2's class, delete cell 3, draw a cell."""
    image = dataset.image(KEY)
    history = EditHistory(image)
    history.do(outline_edit(image, 1, "cytoplasm", image.cell(1).cytoplasm * 1.02))
    history.do(SetClass.of(image, [2], "koilocytotic"))
    history.do(DeleteCell.of(image, 3))
    cytoplasm = [[200, 150], [250, 150], [250, 190], [200, 190]]
    history.do(new_cell_edit(image, cytoplasm, [[220, 160], [230, 160], [225, 170]]))
    return history


def test_journaled_edits_are_restored_after_a_crash_and_saved_to_the_dat_files(
    smear,
):
    dataset = Dataset.open(smear)
    edit_image(dataset)
    image = dataset.image(KEY)
    new_index = image.cells[-1].index
    assert dataset.unsaved_cells(image) == ([1, 2], [new_index], [3])
    Journal(dataset.project).record(dataset, image, author="reviewer")
    edited = state(image)

    # The window died before saving: the next start opens the files as they were.
    fresh = Dataset.open(smear)
    reopened = fresh.image(KEY)
    assert not fresh.is_modified(reopened)
    journal = Journal(fresh.project)
    entries = journal.pending()
    assert [(e.image_key, e.author, e.summary) for e in entries] == [
        (KEY, "reviewer", "2 cells changed, 1 added, 1 deleted")
    ]
    assert journal.conflict(fresh, entries[0]) is None

    journal.restore(fresh, entries[0])
    assert fresh.is_modified(reopened)
    assert state(reopened) == edited
    fresh.save(reopened)
    journal.discard(KEY)

    assert journal.pending() == []
    assert not journal.folder.exists() or not any(journal.folder.rglob("*.json"))
    folder = reopened.annotation_dir
    cytoplasm = parse_dat((folder / "001_cyt01.dat").read_bytes()).vertices
    assert np.array_equal(cytoplasm, reopened.cell(1).cytoplasm)
    assert not (folder / "001_cyt03.dat").exists()
    assert (folder / f"001_nuc{new_index:02d}.dat").is_file()
    assert state(Dataset.open(smear).image(KEY)) == edited


@pytest.mark.parametrize("change", ["rewritten", "removed", "added"])
def test_a_journal_whose_files_changed_on_disk_is_reported_not_applied(smear, change):
    dataset = Dataset.open(smear)
    edit_image(dataset)
    Journal(dataset.project).record(dataset, dataset.image(KEY))
    folder = dataset.image(KEY).annotation_dir
    if change == "rewritten":
        # Someone else moved cell 2 by half a pixel.
        path = folder / "001_cyt02.dat"
        moved = parse_dat(path.read_bytes()).vertices + 0.5
        path.write_bytes(format_dat(moved, DatStyle(decimals=1)))
    elif change == "removed":
        path = folder / "001_nuc02.dat"
        path.unlink()
    else:
        path = folder / "001_cyt30.dat"
        path.write_bytes(b"1.0,1.0\n9.0,1.0\n5.0,9.0\n")

    fresh = Dataset.open(smear)
    journal = Journal(fresh.project)
    [entry] = journal.pending()
    reason = journal.conflict(fresh, entry)
    assert reason is not None
    assert reason.endswith(
        f"were not restored: im_Parabasal/im_Parabasal/{path.name} changed on disk "
        "after they were made"
    )
    before = state(fresh.image(KEY))

    with pytest.raises(StaleJournalError, match="were not restored") as raised:
        journal.restore(fresh, entry)

    assert str(entry.path) in str(raised.value)
    assert state(fresh.image(KEY)) == before
    assert not fresh.is_modified(fresh.image(KEY))
    assert [pending.path for pending in journal.pending()] == [entry.path]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_journal_write_leaves_the_previous_journal_whole(
    smear, monkeypatch, failing
):
    dataset = Dataset.open(smear)
    image = dataset.image(KEY)
    history = EditHistory(image)
    history.do(SetClass.of(image, [1], "metaplastic"))
    journal = Journal(dataset.project)
    journal.record(dataset, image)
    history.do(DeleteCell.of(image, 2))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, disk_full)
    with pytest.raises(SaveError, match="No space left on device"):
        journal.record(dataset, image)
    monkeypatch.undo()

    path = journal.path(KEY)
    assert json.loads(path.read_text(encoding="utf-8"))["changed"] == [1]
    assert [entry.summary for entry in journal.pending()] == ["1 cell changed"]
    assert [p.name for p in path.parent.iterdir()] == ["001.json"]


def test_unreadable_journals_are_listed_as_problems_and_others_still_restore(smear):
    dataset = Dataset.open(smear)
    edit_image(dataset)
    journal = Journal(dataset.project)
    journal.record(dataset, dataset.image(KEY))
    broken = journal.path("im_Koilocytotic/001")
    broken.parent.mkdir(parents=True)
    broken.write_text('{"image": "im_Koilocytotic/001", "cel', encoding="utf-8")
    newer = journal.path("im_Metaplastic/001")
    newer.parent.mkdir(parents=True)
    newer.write_text(json.dumps({"format_version": 99}), encoding="utf-8")

    entries = journal.pending()

    assert [entry.image_key for entry in entries] == [KEY]
    problems = {problem.path: problem.message for problem in journal.problems}
    assert "cannot be read" in problems[broken]
    assert "newer Cervix Studio" in problems[newer]


def test_undoing_every_edit_removes_the_journal(smear):
    dataset = Dataset.open(smear)
    image = dataset.image(KEY)
    history = edit_image(dataset)
    journal = Journal(dataset.project)
    assert journal.record(dataset, image) is not None

    while history.undo() is not None:
        pass

    assert journal.record(dataset, image) is None
    assert journal.pending() == []
    assert not journal.path(KEY).parent.exists()


def test_restoring_over_other_unsaved_edits_is_refused(smear):
    dataset = Dataset.open(smear)
    edit_image(dataset)
    Journal(dataset.project).record(dataset, dataset.image(KEY))
    fresh = Dataset.open(smear)
    image = fresh.image(KEY)
    SetClass.of(image, [4], "dyskeratotic").apply(image)
    journal = Journal(fresh.project)

    with pytest.raises(JournalError, match="already has unsaved edits"):
        journal.restore(fresh, journal.pending()[0])

    assert image.cell(4).class_name == "dyskeratotic"
    assert image.cell(3) is not None


def test_the_disk_fingerprint_names_each_dat_file_of_the_image(smear):
    dataset = Dataset.open(smear)
    image = dataset.image(KEY)

    fingerprint = dataset.disk_fingerprint(image)

    on_disk = {
        path.relative_to(smear).as_posix()
        for path in Path(image.annotation_dir).glob("001_*.dat")
    }
    assert set(fingerprint) == on_disk
    assert len(on_disk) == 2 * len(image.cells)
