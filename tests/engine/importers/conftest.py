"""Fixtures for the dataset importers: the real Herlev and ISBI 2014 samples, a
writer of hand-made Herlev masks, and Dice between a mask and a drawn outline.

The helpers are fixtures because tests import no sibling modules under pytest's
importlib import mode.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PIL import Image

# The Herlev palette: index 2 nucleus, 3 cytoplasm, 4 background, 0/1 border.
HERLEV_PALETTE = [0, 0, 0, 128, 128, 128, 0, 0, 255, 0, 0, 128, 255, 0, 0]


@pytest.fixture(scope="session")
def herlev_source(shared_data: Path) -> Path:
    folder = shared_data / "herlev"
    if not folder.is_dir():
        pytest.skip(f"the Herlev sample is not at {folder}")
    return folder


@pytest.fixture(scope="session")
def isbi_source(shared_data: Path) -> Path:
    folder = shared_data / "isbi2014" / "synthetic"
    if not folder.is_dir():
        pytest.skip(f"the ISBI 2014 sample is not at {folder}")
    return folder


def _write_herlev_cell(folder: Path, name: str, labels: np.ndarray) -> Path:
    """Write a Herlev image and its palette mask `<name>-d.bmp`; return the mask."""
    folder.mkdir(parents=True, exist_ok=True)
    colours = np.array(HERLEV_PALETTE, dtype=np.uint8).reshape(-1, 3)
    Image.fromarray(colours[labels]).save(folder / f"{name}.BMP", format="BMP")
    mask = Image.fromarray(labels.astype(np.uint8), mode="P")
    mask.putpalette(HERLEV_PALETTE)
    path = folder / f"{name}-d.bmp"
    mask.save(path, format="BMP")
    return path


@pytest.fixture
def write_herlev_cell():
    return _write_herlev_cell


def disk(shape: tuple[int, int], centre: tuple[int, int], radius: int) -> np.ndarray:
    canvas = np.zeros(shape, dtype=np.uint8)
    cv2.circle(canvas, (int(centre[0]), int(centre[1])), int(radius), 1, -1)
    return canvas.astype(bool)


def drawn(vertices: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """An outline drawn back as a mask the way SIPaKMeD loaders often do it:
    cv2.fillPoly on vertices truncated to integers."""
    canvas = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(canvas, [np.asarray(vertices).astype(np.int32)], 1)
    return canvas.astype(bool)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


@pytest.fixture
def masks():
    """disk(shape, centre, radius), drawn(vertices, shape) and dice(a, b)."""

    return SimpleNamespace(disk=disk, drawn=drawn, dice=dice)
