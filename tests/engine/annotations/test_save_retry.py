"""A save that failed part-way (full disk, read-only folder) can be retried once the
disk is fixed: what it already wrote is not taken for someone else's change, and
a class change whose labels file was not written is still written."""

from __future__ import annotations

import errno
import json
import os

import pytest

from engine.annotations import Dataset
from engine.annotations.project import ProjectFolder
from engine.errors import SaveError


def _fail_on_call(monkeypatch, failing_call: int, target=os, name="replace"):
    """Make the `failing_call`-th call of `target.name` fail as a full disk would."""
    real = getattr(target, name)
    calls = []

    def sometimes_full(*args, **kwargs):
        calls.append(args)
        if len(calls) == failing_call:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, sometimes_full)


def test_a_save_that_stopped_half_way_is_retried(small_dataset, monkeypatch):
    dataset = Dataset.open(small_dataset)
    image = dataset.image("im_Parabasal/001")
    image.cell(1).cytoplasm[0] = [12, 12]
    image.cell(2).cytoplasm[0] = [71, 21]
    first = image.annotation_dir / "001_cyt01.dat"
    second = image.annotation_dir / "001_cyt02.dat"
    old_second = second.read_bytes()

    with monkeypatch.context() as patch:
        _fail_on_call(patch, 2)
        with pytest.raises(SaveError):
            dataset.save(image)
    assert first.read_bytes().startswith(b"12,12\n")  # the first file went through
    assert second.read_bytes() == old_second
    assert dataset.is_modified(image)

    dataset.save(image)

    assert not dataset.is_modified(image)
    assert second.read_bytes() != old_second
    reopened = Dataset.open(small_dataset).image("im_Parabasal/001")
    assert reopened.cell(1).cytoplasm[0].tolist() == [12, 12]
    assert reopened.cell(2).cytoplasm[0].tolist() == [71, 21]


def test_a_class_change_whose_labels_failed_is_written_on_retry(
    small_dataset, monkeypatch
):
    dataset = Dataset.open(small_dataset)
    image = dataset.image("im_Parabasal/001")
    image.cell(1).class_name = "koilocytotic"
    labels = ProjectFolder(small_dataset).labels_path(image.key)

    with monkeypatch.context() as patch:
        _fail_on_call(patch, 1)
        with pytest.raises(SaveError):
            dataset.save(image)
    assert not labels.exists()
    assert dataset.is_modified(image)

    dataset.save(image)

    saved = json.loads(labels.read_text(encoding="utf-8"))
    assert saved["cells"]["1"]["class"] == "koilocytotic"
    assert len(saved["cells"]["1"]["history"]) == 1
    reopened = Dataset.open(small_dataset).image("im_Parabasal/001")
    assert reopened.cell(1).class_name == "koilocytotic"
