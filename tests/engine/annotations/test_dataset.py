"""Reading a dataset tolerantly and saving edits without ever losing a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.annotations import (
    ConflictError,
    Dataset,
    ImageKind,
    ReviewState,
    new_cell,
)
from engine.errors import DatasetLockedError, NotADatasetError, SaveError


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".cervix" not in path.parts
    }


def test_both_inner_folder_names_and_cropped_cells_are_read(small_dataset):
    dataset = Dataset.open(small_dataset)

    assert dataset.problems == []
    keys = [image.key for image in dataset.images]
    assert keys == [
        "im_Koilocytotic/002",
        "im_Parabasal/001",
        "im_Parabasal/CROPPED/001_01",
    ]
    parabasal = dataset.image("im_Parabasal/001")
    assert [cell.index for cell in parabasal.cells] == [1, 2]
    assert parabasal.size == (120, 90)
    assert dataset.image("im_Parabasal/CROPPED/001_01").kind is ImageKind.CROPPED
    assert dataset.counts()["parabasal"] == {
        "images": 2,
        "cluster_images": 1,
        "cropped_cells": 1,
        "cells": 2,
    }
    assert dataset.counts()["koilocytotic"]["cells"] == 1


def test_saving_an_unchanged_dataset_touches_no_file(small_dataset):
    before = snapshot(small_dataset)
    times = {p: p.stat().st_mtime_ns for p in small_dataset.rglob("*.dat")}
    dataset = Dataset.open(small_dataset)

    reports = [dataset.save(image) for image in dataset.images]

    assert not any(report.changed for report in reports)
    assert snapshot(small_dataset) == before
    assert {p: p.stat().st_mtime_ns for p in small_dataset.rglob("*.dat")} == times
    assert not (small_dataset / ".cervix" / "backups").exists()


def test_a_moved_vertex_rewrites_one_file_in_its_style_with_a_backup(small_dataset):
    before = snapshot(small_dataset)
    dataset = Dataset.open(small_dataset)
    image = dataset.image("im_Parabasal/001")
    image.cell(2).cytoplasm[0] = [72.5, 21.25]

    report = dataset.save(image, author="reviewer")

    path = image.annotation_dir / "001_cyt02.dat"
    assert report.written == [path]
    assert path.read_bytes().startswith(b"72.5, 21.25\r\n110.5, 20.25\r\n")
    after = snapshot(small_dataset)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"im_Parabasal/im_Parabasal/001_cyt02.dat"}
    backup = report.backup_dir / "im_Parabasal/im_Parabasal/001_cyt02.dat"
    assert backup.read_bytes() == before["im_Parabasal/im_Parabasal/001_cyt02.dat"]
    labels = json.loads(dataset.project.labels_path(image.key).read_text())
    assert labels["cells"]["2"]["history"][0]["who"] == "reviewer"
    assert "outline" in labels["cells"]["2"]["history"][0]["what"]


def test_deleted_cells_move_to_backups_and_new_cells_take_the_next_index(
    small_dataset,
):
    dataset = Dataset.open(small_dataset)
    image = dataset.image("im_Parabasal/001")
    image.cells.remove(image.cell(1))
    square = np.array([[5, 70], [40, 70], [40, 88], [5, 88]], float)
    added = dataset.add_cell(image, new_cell(square, None, "parabasal"))

    report = dataset.save(image)

    folder = image.annotation_dir
    assert added.index == 3
    assert not (folder / "001_cyt01.dat").exists()
    assert not (folder / "001_nuc01.dat").exists()
    assert (report.backup_dir / "im_Parabasal/im_Parabasal/001_cyt01.dat").exists()
    assert (folder / "001_cyt03.dat").read_bytes() == b"5,70\n40,70\n40,88\n5,88\n"
    reopened = Dataset.open(small_dataset).image("im_Parabasal/001")
    assert [cell.index for cell in reopened.cells] == [2, 3]


def test_a_new_cell_never_reuses_the_index_of_a_broken_file(small_dataset):
    folder = small_dataset / "im_Parabasal" / "im_Parabasal"
    (folder / "001_cyt05.dat").write_bytes(b"not,a\npolygon\n")
    dataset = Dataset.open(small_dataset)
    image = dataset.image("im_Parabasal/001")
    square = np.array([[5, 70], [40, 70], [40, 88]], float)

    added = dataset.add_cell(image, new_cell(square, None, "parabasal"))
    dataset.save(image)

    assert added.index == 6
    assert (folder / "001_cyt05.dat").read_bytes() == b"not,a\npolygon\n"


def test_classes_and_review_states_live_in_the_project_folder(small_dataset):
    before = snapshot(small_dataset)
    dataset = Dataset.open(small_dataset)
    image = dataset.image("im_Parabasal/001")
    image.cell(1).class_name = "dyskeratotic"
    image.cell(1).review_state = ReviewState.CORRECTED

    dataset.save(image, author="ana")

    assert snapshot(small_dataset) == before
    reopened = Dataset.open(small_dataset).image("im_Parabasal/001")
    assert reopened.cell(1).class_name == "dyskeratotic"
    assert reopened.cell(1).review_state is ReviewState.CORRECTED
    assert reopened.cell(2).class_name == "parabasal"
    assert Dataset.open(small_dataset).counts()["dyskeratotic"]["cells"] == 1


def test_a_file_changed_by_someone_else_is_not_overwritten(small_dataset):
    dataset = Dataset.open(small_dataset)
    image = dataset.image("im_Parabasal/001")
    path = image.annotation_dir / "001_cyt01.dat"
    path.write_bytes(b"11,11\n61,11\n61,61\n11,61\n")
    image.cell(1).cytoplasm[0] = [12, 12]

    with pytest.raises(ConflictError) as caught:
        dataset.save(image)

    assert "001_cyt01.dat" in str(caught.value)
    assert path.read_bytes() == b"11,11\n61,11\n61,61\n11,61\n"
    assert dataset.is_modified(image)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_a_read_only_folder_fails_cleanly_and_keeps_the_edit(small_dataset):
    dataset = Dataset.open(small_dataset)
    image = dataset.image("im_Parabasal/001")
    image.cell(1).cytoplasm[0] = [12, 12]
    image.annotation_dir.chmod(0o555)
    try:
        with pytest.raises(SaveError):
            dataset.save(image)
    finally:
        image.annotation_dir.chmod(0o755)
    assert dataset.is_modified(image)


def test_a_failing_write_leaves_the_old_file_and_the_edit(small_dataset, monkeypatch):
    dataset = Dataset.open(small_dataset)
    image = dataset.image("im_Parabasal/001")
    path = image.annotation_dir / "001_cyt01.dat"
    old = path.read_bytes()
    image.cell(1).cytoplasm[0] = [12, 12]

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(SaveError) as caught:
        dataset.save(image)

    assert "No space left" in str(caught.value)
    assert path.read_bytes() == old
    assert not list(image.annotation_dir.glob(".*tmp*"))
    assert dataset.is_modified(image)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("003_cyt01.dat", b"", "empty"),
        ("003_cyt01.dat", b"1,2\nx,y\n3,4\n", "two numbers"),
        ("003_cyt01.dat", b"1,2\n3,nan\n5,6\n", "finite"),
        ("003_cyt01.dat", b"1,2\n3,4\n", "at least 3"),
        ("003_cyt01.dat", b"0,0\n10,10\n10,0\n0,10\n", "not a valid polygon"),
        ("003_cyt01.dat", b"\x89PNG\r\n\x1a\n\xff\xfe", "not a text file"),
        ("003_nuc01.dat", b"1,1\n5,1\n5,5\n", "without its cell"),
    ],
)
def test_a_bad_file_is_reported_and_the_rest_still_loads(
    small_dataset, name, content, words
):
    folder = small_dataset / "im_Parabasal" / "im_Parabasal"
    (folder / "003.bmp").write_bytes((folder / "001.bmp").read_bytes())
    (folder / name).write_bytes(content)

    dataset = Dataset.open(small_dataset)

    assert len(dataset.problems) == 1
    problem = dataset.problems[0]
    assert problem.path == folder / name
    assert words in problem.message
    assert dataset.cell_count() == 4
    dataset.save(dataset.image("im_Parabasal/003"))
    assert (folder / name).read_bytes() == content


def test_a_nucleus_outside_its_cell_is_reported(small_dataset):
    folder = small_dataset / "im_Parabasal" / "im_Parabasal"
    (folder / "001_nuc01.dat").write_bytes(b"100,80\n110,80\n110,88\n")

    dataset = Dataset.open(small_dataset)

    assert [p.path.name for p in dataset.problems] == ["001_nuc01.dat"]
    assert "outside its cell" in dataset.problems[0].message


def test_a_missing_or_broken_image_is_reported(small_dataset):
    folder = small_dataset / "im_Parabasal" / "im_Parabasal"
    (folder / "004_cyt01.dat").write_bytes(b"1,1\n5,1\n5,5\n")
    (folder / "005.bmp").write_bytes(b"BM\x00\x00truncated")
    (folder / "005_cyt01.dat").write_bytes(b"1,1\n5,1\n5,5\n")

    dataset = Dataset.open(small_dataset)

    messages = {p.path.name: p.message for p in dataset.problems}
    assert "has no image" in messages["004_cyt01.dat"]
    assert "cannot be read as an image" in messages["005.bmp"]
    assert dataset.cell_count() == 4


def test_a_folder_without_classes_is_not_a_dataset(tmp_path):
    with pytest.raises(NotADatasetError) as caught:
        Dataset.open(tmp_path)
    assert "im_Parabasal" in str(caught.value)
    with pytest.raises(NotADatasetError):
        Dataset.open(tmp_path / "missing")


def test_a_second_editor_is_kept_out_by_the_lock(small_dataset):
    first = Dataset.open(small_dataset).project.lock()
    first.acquire()
    try:
        holder = first.holder()
        assert holder["pid"] == os.getpid()
        stranger = dict(holder, pid=1, host="another-workstation")
        first.path.write_text(json.dumps(stranger))
        with pytest.raises(DatasetLockedError) as caught:
            Dataset.open(small_dataset).project.lock().acquire()
        assert "another-workstation" in str(caught.value)
    finally:
        first.path.unlink()


def test_a_stale_lock_from_a_dead_process_is_taken_over(small_dataset):
    lock = Dataset.open(small_dataset).project.lock()
    lock.path.parent.mkdir(parents=True, exist_ok=True)
    import socket

    lock.path.write_text(
        json.dumps({"user": "x", "host": socket.gethostname(), "pid": 2**22 + 7})
    )
    with lock:
        assert lock.holder()["pid"] == os.getpid()
    assert not lock.path.exists()
