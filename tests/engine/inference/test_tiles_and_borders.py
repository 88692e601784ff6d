"""Tiles cover an image once through their cores, and a cell that lies across a
tile border comes out as one cell, whole."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from engine.images import open_image
from engine.inference import ImageJob, InferencePipeline, TileGrid
from engine.inference.merge import InstanceMerger, instances_of_tile, same_cell
from engine.inference.tiling import read_tile
from engine.predictions import PredictionStore

from .conftest import disc_image, write_png


@pytest.mark.parametrize(
    "size, scale, tile, overlap",
    [((300, 200), 1.0, 64, 16), ((1000, 70), 0.37, 64, 32), ((50, 40), 1.0, 64, 16)],
)
def test_tile_cores_cover_every_working_pixel_once(size, scale, tile, overlap):
    grid = TileGrid(size, scale, tile, overlap)
    cover = np.zeros((grid.height, grid.width), int)
    for t in grid.tiles:
        x0, y0, x1, y1 = t.core
        assert t.x <= x0 and x1 <= t.x + tile and t.y <= y0 and y1 <= t.y + tile
        cover[y0:y1, x0:x1] += 1
    assert (cover == 1).all()


def test_a_tile_read_at_half_scale_matches_the_image_shrunk(tmp_path):
    rng = np.random.default_rng(0)
    base = np.kron(rng.integers(0, 255, (40, 60, 3)), np.ones((8, 8, 1)))
    pixels = base.astype(np.uint8)  # 480 x 320, smooth at the half scale
    with open_image(write_png(tmp_path / "blocks.png", pixels)) as source:
        tile = read_tile(source, 0.5, 32, 16, 64)
    expected = pixels[32:160, 64:192].reshape(64, 2, 64, 2, 3).mean(axis=(1, 3))
    assert np.abs(tile.astype(float) - expected).mean() < 3


def _pieces_of(grid, disc):
    """What a perfect model finds of one disc (cx, cy, r) in every tile."""
    pieces = []
    for tile in grid.tiles:
        yy, xx = np.mgrid[tile.y : tile.y + tile.size, tile.x : tile.x + tile.size]
        mask = (xx - disc[0]) ** 2 + (yy - disc[1]) ** 2 <= disc[2] ** 2
        if mask.any():
            pieces += instances_of_tile(tile, mask[None], [0.9], [0], grid)
    return pieces


def test_the_pieces_of_a_cell_cut_by_tile_edges_merge_into_one_whole_cell():
    grid = TileGrid((200, 200), 1.0, 64, 16)
    disc = (96, 100, 14)  # across the border of two columns and two rows of tiles
    pieces = _pieces_of(grid, disc)
    assert len({piece.tile.index for piece in pieces}) >= 2

    merger = InstanceMerger(grid)
    cells = []
    for row in range(grid.rows):
        for tile in grid.tiles:
            if tile.row == row:
                merger.add([p for p in pieces if p.tile is tile])
        cells += merger.finish_row(row)

    assert len(cells) == 1
    mask, x0, y0 = cells[0].mask()
    yy, xx = np.mgrid[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]]
    true_disc = (xx - disc[0]) ** 2 + (yy - disc[1]) ** 2 <= disc[2] ** 2
    assert (mask == true_disc).all()


def test_two_cells_that_overlap_are_never_merged():
    grid = TileGrid((200, 200), 1.0, 64, 16)
    left = _pieces_of(grid, (90, 100, 14))
    right = _pieces_of(grid, (104, 100, 14))  # overlapping the left one by half
    cross_tile = [same_cell(a, b) for a in left for b in right if a.tile is not b.tile]
    assert cross_tile and not any(cross_tile)

    merger = InstanceMerger(grid)
    for tile in grid.tiles:
        merger.add([p for p in left + right if p.tile is tile])
    assert len(merger.finish_row(grid.rows - 1)) == 2


def _run(tmp_path, pixels, **models):
    path = write_png(tmp_path / "cells.png", pixels)
    store = PredictionStore(tmp_path / "store")
    pipeline = InferencePipeline(scale=1.0, **models)
    summary = pipeline.run([ImageJob("cells.png", path)], store, "run")
    return summary, store.load_cells("run", "cells.png")


def test_a_cell_across_a_tile_border_is_found_once(tmp_path, fake_maskrcnn):
    # 64-pixel tiles overlapping by 16: tile columns start at 0, 48, 96, 136.
    discs = [(56, 40, 12), (150, 30, 9), (100, 95, 12)]
    pixels = disc_image((200, 120), discs)

    summary, predictions = _run(tmp_path, pixels, maskrcnn=fake_maskrcnn)

    assert summary.cells == len(discs) == len(predictions.cells)
    for cx, cy, radius in discs:
        outlines = [Polygon(cell.cytoplasm) for cell in predictions.cells]
        holding = [o for o in outlines if o.contains(Point(cx, cy))]
        assert len(holding) == 1
        true_area = np.pi * radius**2
        assert holding[0].area == pytest.approx(true_area, rel=0.15)


def test_a_cell_over_a_tile_corner_is_found_once_with_its_nucleus(
    tmp_path, fake_maskrcnn, fake_unet
):
    pixels = disc_image((200, 200), [(100, 104, 18)])
    # A dark nucleus in the middle of the cell, seen by the U-Net.
    pixels[96:112, 92:108] = 30

    summary, predictions = _run(
        tmp_path, pixels, maskrcnn=fake_maskrcnn, unet=fake_unet
    )

    assert summary.cells == 1
    (cell,) = predictions.cells
    assert Polygon(cell.cytoplasm).area == pytest.approx(np.pi * 18**2, rel=0.15)
    nucleus = Polygon(cell.nucleus)
    assert nucleus.area == pytest.approx(16 * 16, rel=0.2)
    assert Polygon(cell.cytoplasm).buffer(0.5).contains(nucleus)


def test_nuclei_come_from_a_unet_working_at_another_scale(tmp_path):
    from .conftest import FakeMaskRCNN, FakeUNet

    discs = [(60, 60, 30), (200, 80, 26), (130, 150, 28)]
    pixels = disc_image((300, 200), discs)
    for cx, cy, _ in discs:
        pixels[cy - 8 : cy + 8, cx - 8 : cx + 8] = 30  # a 16 x 16 nucleus
    path = write_png(tmp_path / "cells.png", pixels)
    store = PredictionStore(tmp_path / "store")
    # Scaled as training scales cluster images: Mask R-CNN's shorter side to 64
    # pixels, the U-Net's to 128, so the two read the image at different sizes.
    maskrcnn, unet = FakeMaskRCNN(input_size=64), FakeUNet(input_size=128)
    pipeline = InferencePipeline(maskrcnn=maskrcnn, unet=unet)
    pipeline.run([ImageJob("cells.png", path)], store, "run")

    cells = store.load_cells("run", "cells.png").cells
    assert len(cells) == len(discs)
    for cell in cells:
        outline, nucleus = Polygon(cell.cytoplasm), Polygon(cell.nucleus)
        (cx, cy, radius) = next(d for d in discs if outline.contains(Point(d[:2])))
        assert outline.area == pytest.approx(np.pi * radius**2, rel=0.2)
        assert nucleus.area == pytest.approx(16 * 16, rel=0.2)
        assert nucleus.centroid.distance(Point(cx - 0.5, cy - 0.5)) < 2
