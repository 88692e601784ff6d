"""A window that must never wait on a question (screenshots, automation) closes
with unsaved edits without asking, and the edits stay in the crash journal to be
offered back, not discarded."""

from __future__ import annotations

import logging

from engine.annotations import Dataset
from engine.annotations.journal import Journal
from engine.annotations.project import ProjectFolder


def test_closing_unattended_keeps_unsaved_edits_in_the_journal(
    window, open_in, small_dataset, dialogs, disk_files, caplog
):
    assert open_in(small_dataset)
    record = window.current_record()
    cell = record.cells[0]
    saved_class = cell.class_name
    new_class = "parabasal" if saved_class != "parabasal" else "metaplastic"
    window.viewer.selection.select(record.key, [cell.index])
    window.editing.set_class(new_class)
    before = disk_files(small_dataset)
    window.errors_in_dialogs = False

    with caplog.at_level(logging.WARNING):
        closed = window.close()

    assert closed and not window.isVisible()
    assert dialogs.shown == []  # nothing waited on a person
    assert disk_files(small_dataset) == before  # not saved behind the user's back
    (entry,) = Journal(ProjectFolder(small_dataset)).pending()
    assert entry.image_key == record.key
    assert [c.class_name for c in entry.cells] == [new_class]
    on_disk = Dataset.open(small_dataset).image(record.key).cell(cell.index)
    assert on_disk.class_name == saved_class
    assert any("stay in" in r.getMessage() for r in caplog.records)


def test_opening_another_dataset_unattended_keeps_the_edits_too(
    window, open_in, small_dataset, synthetic_dataset, dialogs
):
    assert open_in(small_dataset)
    record = window.current_record()
    window.viewer.selection.select(record.key, [record.cells[0].index])
    window.editing.set_class("dyskeratotic")
    window.errors_in_dialogs = False

    assert open_in(synthetic_dataset)

    assert dialogs.shown == []
    assert window.dataset.root == synthetic_dataset
    assert [e.image_key for e in Journal(ProjectFolder(small_dataset)).pending()] == [
        record.key
    ]
