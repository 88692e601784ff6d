"""A small hand-made SIPaKMeD dataset for the interchange tests.

Three classes, two cluster images and one cropped cell; two cells overlap, one
cell has no nucleus, one cell was reclassified in the review labels, and one
outline has decimal coordinates. Cells are painted grey 170 and nuclei grey 60
on a grey 210 background, so intensities are known.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

BACKGROUND, CYTOPLASM_GREY, NUCLEUS_GREY = 210, 170, 60

OCTAGON = np.array(
    [
        [92.5, 55.25],
        [104.75, 55.25],
        [110.5, 62.5],
        [110.5, 74.0],
        [104.75, 80.5],
        [92.5, 80.5],
        [86.25, 74.0],
        [86.25, 62.5],
    ]
)

# image key -> (relative image path, size, cells); a cell is
# (index, cytoplasm, nucleus or None, class when it differs from the folder).
LAYOUT = {
    "im_Parabasal/001": (
        "im_Parabasal/im_Parabasal/001.bmp",
        (120, 90),
        [
            (
                1,
                [[10, 10], [50, 10], [50, 50], [10, 50]],
                [[24, 24], [36, 24], [36, 36], [24, 36]],
                None,
            ),
            (
                2,
                [[40, 20], [80, 20], [80, 60], [40, 60]],
                [[56, 34], [66, 34], [66, 44], [56, 44]],
                None,
            ),
            (
                3,
                OCTAGON.tolist(),
                [[95.5, 64.5], [101.25, 64.5], [101.25, 70.75], [95.5, 70.75]],
                "dyskeratotic",
            ),
        ],
    ),
    "im_Koilocytotic/003": (
        "im_Koilocytotic/im_Koilocytotic/003.bmp",
        (100, 80),
        [
            (1, [[5, 5], [30, 8], [35, 30], [12, 40]], None, None),
            (
                2,
                [[50, 30], [90, 30], [90, 70], [50, 70]],
                [[62, 42], [76, 42], [76, 56], [62, 56]],
                None,
            ),
        ],
    ),
    "im_Metaplastic/CROPPED/005_01": (
        "im_Metaplastic/im_Metaplastic/CROPPED/005_01.bmp",
        (40, 40),
        [
            (
                1,
                [[4, 4], [36, 4], [36, 36], [4, 36]],
                [[15, 15], [25, 15], [25, 25], [15, 25]],
                None,
            ),
        ],
    ),
}


def _dat_text(vertices) -> str:
    lines = []
    for x, y in vertices:
        lines.append(f"{x:g},{y:g}")
    return "\n".join(lines) + "\n"


def _write_dataset(root: Path) -> Path:
    for key, (relative, size, cells) in LAYOUT.items():
        image_path = root / relative
        image_path.parent.mkdir(parents=True, exist_ok=True)
        picture = Image.new("RGB", size, (BACKGROUND,) * 3)
        draw = ImageDraw.Draw(picture)
        for _, cytoplasm, _, _ in cells:
            draw.polygon([tuple(p) for p in cytoplasm], fill=(CYTOPLASM_GREY,) * 3)
        for _, _, nucleus, _ in cells:
            if nucleus is not None:
                draw.polygon([tuple(p) for p in nucleus], fill=(NUCLEUS_GREY,) * 3)
        picture.save(image_path)
        stem = image_path.stem
        cropped = "CROPPED" in key
        labels = {}
        for index, cytoplasm, nucleus, relabel in cells:
            if cropped:
                cyt_name, nuc_name = f"{stem}_cyt.dat", f"{stem}_nuc.dat"
            else:
                cyt_name, nuc_name = (
                    f"{stem}_cyt{index:02d}.dat",
                    f"{stem}_nuc{index:02d}.dat",
                )
            (image_path.parent / cyt_name).write_text(_dat_text(cytoplasm))
            if nucleus is not None:
                (image_path.parent / nuc_name).write_text(_dat_text(nucleus))
            if relabel:
                labels[str(index)] = {"class": relabel}
        if labels:
            labels_path = root / ".cervix" / "labels" / f"{key}.json"
            labels_path.parent.mkdir(parents=True, exist_ok=True)
            labels_path.write_text(json.dumps({"image": key, "cells": labels}))
    return root


@pytest.fixture
def dataset_root(tmp_path) -> Path:
    """The folder of the small dataset, fresh for each test."""
    return _write_dataset(tmp_path / "dataset")


@pytest.fixture
def empty_copy(tmp_path, dataset_root) -> Path:
    """The same dataset without any `.dat` files or project folder: images only."""
    copy = tmp_path / "empty-copy"
    shutil.copytree(
        dataset_root, copy, ignore=shutil.ignore_patterns("*.dat", ".cervix")
    )
    return copy
