"""Images to edit: a synthetic smear on disk, and a small image held in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.annotations import Cell, ImageKind, ImageRecord
from engine.synthetic import make_dataset


def square(x: float, y: float, size: float) -> np.ndarray:
    return np.array(
        [[x, y], [x + size, y], [x + size, y + size], [x, y + size]], dtype=float
    )


@pytest.fixture
def smear(tmp_path: Path) -> Path:
    """A synthetic SIPaKMeD dataset: one cluster image per class, with crops."""
    return make_dataset(
        tmp_path / "smear", images_per_class=1, seed=1, image_size=(256, 192)
    )


@pytest.fixture
def memory_image() -> ImageRecord:
    """A 200 x 100 cluster image with three square cells, 4 unused on disk."""
    image = ImageRecord(
        key="im_Parabasal/001",
        path=Path("im_Parabasal/im_Parabasal/001.bmp"),
        folder_class="parabasal",
        kind=ImageKind.CLUSTER,
        stem="001",
        size=(200, 100),
        used_indices={1, 2, 3, 4},
    )
    for index, x in ((1, 10), (2, 70), (3, 130)):
        image.cells.append(
            Cell(
                index=index,
                cytoplasm=square(x, 20, 50),
                nucleus=square(x + 20, 40, 10),
                class_name="parabasal",
            )
        )
    return image
