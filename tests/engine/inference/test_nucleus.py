"""Without a U-Net, a cell's nucleus comes from the cell itself: the darkest
stained piece inside the outline Mask R-CNN gave."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from engine.annotations.importers.contours import rasterise
from engine.images import open_image
from engine.inference import ImageJob, InferencePipeline
from engine.inference.cells import stain_nucleus
from engine.predictions import PredictionStore
from engine.synthetic import draw_cluster_image

from .conftest import FakeMaskRCNN, disc_image, write_png

CLASSES = (
    "superficial-intermediate",
    "parabasal",
    "metaplastic",
    "koilocytotic",
    "dyskeratotic",
)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float((a & b).sum()) / max(1, int(a.sum() + b.sum()))


def test_the_stained_nucleus_of_synthetic_cells_matches_the_true_one(tmp_path):
    scores = []
    for index, name in enumerate(CLASSES):
        rng = np.random.default_rng([7, index])
        image, cells = draw_cluster_image(rng, name, (384, 288))
        path = write_png(tmp_path / f"{name}.png", image)
        with open_image(path) as source:
            for cell in cells:
                found = stain_nucleus(source, cell.cytoplasm)
                truth = rasterise(cell.nucleus, image.shape[:2])
                if found is None:
                    scores.append(0.0)
                    continue
                assert Polygon(cell.cytoplasm).buffer(0.5).covers(Polygon(found))
                scores.append(dice(truth, rasterise(found, image.shape[:2])))

    # Overlapping neighbours and dark dyskeratotic cell bodies fool a few
    # cells; most nuclei are found as drawn.
    assert len(scores) >= 20
    assert np.median(scores) > 0.85, np.round(scores, 2)
    assert np.mean(np.asarray(scores) > 0.7) >= 0.8, np.round(scores, 2)


def test_an_evenly_coloured_cell_has_no_nucleus(tmp_path):
    pixels = disc_image((120, 120), [(60, 60, 40)])
    path = write_png(tmp_path / "plain.png", pixels)
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    outline = np.stack([60 + 39 * np.cos(angles), 60 + 39 * np.sin(angles)], axis=1)
    with open_image(path) as source:
        assert stain_nucleus(source, outline) is None


def test_mask_rcnn_cells_get_their_nucleus_without_a_unet(tmp_path):
    discs = [(60, 60, 30), (200, 80, 26), (130, 150, 28)]
    pixels = disc_image((300, 200), discs)
    for cx, cy, _ in discs:
        pixels[cy - 8 : cy + 8, cx - 8 : cx + 8] = 40  # a 16 x 16 nucleus
    path = write_png(tmp_path / "cells.png", pixels)
    store = PredictionStore(tmp_path / "store")
    # Mask R-CNN works on a coarse grid (the shorter side at 64 pixels), where
    # a nucleus is a few pixels; it is traced at the image's own resolution.
    pipeline = InferencePipeline(maskrcnn=FakeMaskRCNN(input_size=64))
    pipeline.run([ImageJob("cells.png", path)], store, "run")

    cells = store.load_cells("run", "cells.png").cells
    assert len(cells) == len(discs)
    for cell in cells:
        outline, nucleus = Polygon(cell.cytoplasm), Polygon(cell.nucleus)
        (cx, cy, _) = next(d for d in discs if outline.contains(Point(d[:2])))
        assert nucleus.area == pytest.approx(16 * 16, rel=0.2)
        assert nucleus.centroid.distance(Point(cx - 0.5, cy - 0.5)) < 1.5
        assert outline.buffer(0.5).covers(nucleus)
