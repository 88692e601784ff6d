"""A tiny synthetic dataset shared by the jobs tests, the window with the Models
and Jobs docks on it, and one CPU thread per test (two shared cores)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

RUN_TIMEOUT_MS = 120_000


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    from engine.synthetic import make_dataset

    return make_dataset(
        tmp_path_factory.mktemp("jobs") / "synthetic",
        images_per_class=2,
        seed=5,
        image_size=(128, 96),
    )


@pytest.fixture
def tiny_dataset(tiny_root, tmp_path) -> Path:
    """A copy the test may train into and edit."""
    target = tmp_path / "data"
    shutil.copytree(tiny_root, target, ignore=shutil.ignore_patterns("models"))
    return target


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def docks(window, tmp_path):
    from PySide6.QtCore import QSettings

    from cervix_gui.jobs.docks import add_job_docks

    settings = QSettings(str(tmp_path / "models.ini"), QSettings.Format.IniFormat)
    added = add_job_docks(window, settings)
    yield added
    added.queue.wait_all()


@pytest.fixture
def opened(window, docks, open_in, tiny_dataset):
    """The tiny dataset open in the window, its models listed."""
    assert open_in(tiny_dataset)
    docks.models.refresh()
    return tiny_dataset


@pytest.fixture
def run_timeout() -> int:
    return RUN_TIMEOUT_MS


@pytest.fixture
def fill_dialog():
    """Set the dialog as a person would for a short run from random weights."""
    return _fill_dialog


def _fill_dialog(dialog, task: str, arch: str, image_size: int, batch_size: int):
    dialog.set_task(task, arch)
    dialog.start.setCurrentText("Random weights")
    dialog.epochs.setValue(1)
    dialog.batch_size.setValue(batch_size)
    dialog.image_size.setValue(image_size)
    dialog.lr.setValue(1e-3)
    dialog.test_share.setValue(0)  # two images per class: one trains, one validates
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
