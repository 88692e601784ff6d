"""Fixtures of the training tests: one small synthetic dataset for the session,
and one CPU thread per test, so that timings hold on a busy two-core machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from engine.annotations import Dataset


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    """Five classes, four cluster images each, 256x192 pixels, with CROPPED cells."""
    from engine.synthetic import make_dataset

    return make_dataset(
        tmp_path_factory.mktemp("training") / "synthetic",
        images_per_class=4,
        image_size=(256, 192),
        seed=0,
    )


@pytest.fixture
def synthetic(synthetic_root) -> Dataset:
    return Dataset.open(synthetic_root)


@pytest.fixture
def synthetic_copy(synthetic_root, tmp_path) -> Path:
    """A copy of the synthetic dataset that a test may change."""
    target = tmp_path / "copy"
    shutil.copytree(synthetic_root, target, ignore=shutil.ignore_patterns("cache"))
    return target


@pytest.fixture(autouse=True)
def one_thread():
    """Two OpenMP threads on two shared cores run several times slower than one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
