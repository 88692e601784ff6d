"""A tiny synthetic dataset shared by the jobs tests, the real main window (its
settings in the test's folder) with its Models and Jobs docks, and one CPU
thread per test (two shared cores)."""

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


@pytest.fixture(scope="session")
def trained(tiny_root, tmp_path_factory) -> dict[str, Path]:
    """A classifier trained for one epoch on the tiny dataset, by the engine
    itself, for the tests that need a model to run or to start from."""
    from engine.training import TrainingConfig, train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("trained")
    made = {}
    for task, arch, size in (("classifier", "tiny-cnn", 64),):
        config = TrainingConfig(
            task=task,
            arch=arch,
            image_size=size,
            batch_size=8,
            epochs=1,
            lr=1e-3,
            pretrained="none",
            device="cpu",
            test_fraction=0.0,
        )
        made[task] = train(config, tiny_root, folder / task).checkpoint
    torch.set_num_threads(threads)
    return made


@pytest.fixture(scope="session")
def small_slide_here(tmp_path_factory) -> Path:
    """A small pyramidal synthetic slide with its cells beside it."""
    from engine.images.synth_slide import write_synthetic_slide

    folder = tmp_path_factory.mktemp("jobs-slide")
    slide = write_synthetic_slide(folder / "smear.ome.tif", (1024, 1024), seed=3)
    assert slide.cell_count >= 8  # a slide without cells would test nothing
    return slide.path


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
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    """The application's main window, as `cervix-gui` opens it."""
    from cervix_gui.main_window import MainWindow

    main_window = MainWindow(settings=settings)
    main_window.resize(1200, 800)
    qtbot.addWidget(main_window)
    main_window.show()
    qtbot.waitExposed(main_window)
    yield main_window
    main_window.jobs.shutdown()


@pytest.fixture
def docks(window):
    """The window's job queue, Models dock and Jobs dock."""
    return window.jobs


@pytest.fixture
def opened(window, docks, open_in, tiny_dataset):
    """The tiny dataset open in the window, its models listed."""
    assert open_in(tiny_dataset)  # waits for the models list too
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
