"""The pipeline streams: it holds a band of tiles however tall the slide, writes
the mask strip by strip, and a cancel leaves no half-written file behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.images import open_image
from engine.images.pyramid_writer import write_pyramidal_ome_tiff
from engine.inference import (
    CancelToken,
    ImageDone,
    ImageJob,
    InferencePipeline,
    PipelineFinished,
    TilesProgress,
)
from engine.inference.prefetch import Prefetcher
from engine.inference.rasters import HELD_STRIPS
from engine.predictions import PredictionStore
from engine.review.unet_mask import UnetMask

from .conftest import disc_image, write_png


def slide_of_discs(path: Path, size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A pyramidal slide (level 0 returned too) with scattered dark discs."""
    width, height = size
    rng = np.random.default_rng(seed)
    count = width * height // 20000
    discs = zip(
        rng.integers(20, width - 20, count),
        rng.integers(20, height - 20, count),
        rng.integers(6, 14, count),
        strict=True,
    )
    pixels = disc_image(size, list(discs))

    def paint(tile_x, tile_y):
        tile = np.full((256, 256, 3), 250, np.uint8)
        part = pixels[
            tile_y * 256 : (tile_y + 1) * 256, tile_x * 256 : (tile_x + 1) * 256
        ]
        tile[: part.shape[0], : part.shape[1]] = part
        return tile

    write_pyramidal_ome_tiff(path, size, paint, tile_size=256, quality=95)
    return pixels


def run_on(path: Path, store: PredictionStore, run="run", **options):
    pipeline = InferencePipeline(**options)
    return pipeline, pipeline.run([ImageJob(path.name, path)], store, run)


def test_the_mask_of_a_slide_is_a_pyramid_of_what_the_unet_said(tmp_path, fake_unet):
    path = tmp_path / "discs.ome.tif"
    slide_of_discs(path, (700, 600))
    store = PredictionStore(tmp_path / "store")
    with open_image(path) as source:
        level0 = source.read_region(0, 0, 0, 700, 600)

    for scale in (1.0, 0.5):
        run = f"scale-{scale}"
        run_on(path, store, run, unet=fake_unet, scale=scale)
        mask_path = store.find_mask(run, path.name)
        assert mask_path.name.endswith(".mask.ome.tif")
        # Seen coarser than the slide, the mask keeps the U-Net's resolution.
        with open_image(mask_path) as mask:
            assert mask.size == (round(700 * scale), round(600 * scale))
            assert mask.level_count > 1
        with UnetMask.open(store, run, path.name) as mask:
            cells = mask.read(0, 0, 700, 600)[2][..., 0] >= 0.5
        expected = level0.mean(axis=2) < 160
        agreement = (cells == expected).mean()
        # At full scale the mask is the U-Net's answer; at half scale it is that
        # answer at half resolution, so only disc edges may differ.
        assert agreement > (0.999 if scale == 1.0 else 0.98), (scale, agreement)


def test_a_small_image_gets_png_rasters_of_its_own_size(
    tmp_path, fake_unet, fake_maskrcnn
):
    path = write_png(tmp_path / "cluster.png", disc_image((150, 100), [(60, 50, 15)]))
    store = PredictionStore(tmp_path / "store")
    run_on(path, store, unet=fake_unet, maskrcnn=fake_maskrcnn, scale=1.0)

    mask = store.load_mask("run", "cluster.png")
    assert mask.shape == (100, 150, 2)
    assert mask[50, 60, 0] == 1.0 and mask[5, 5, 0] == 0.0
    assert store.find_mask("run", "cluster.png").name == "cluster.png.mask.png"


@pytest.mark.parametrize("height", [1024, 4096])
def test_memory_held_does_not_grow_with_the_slide(tmp_path, height, fake_unet):
    path = tmp_path / "tall.ome.tif"
    slide_of_discs(path, (512, height))
    store = PredictionStore(tmp_path / "store")
    pipeline = InferencePipeline(unet=fake_unet, scale=1.0)
    with open_image(path) as source:
        result = pipeline.analyse(source, path.name, store, "run")

    tile = fake_unet.input_size
    assert result.cells > height // 200  # the discs were found all the way down
    # The U-Net's band: its current row of tiles and the rows above it that the
    # mask strip and the open cells still need, whatever the slide's height.
    assert result.most_unet_rows <= 256 + 3 * tile
    assert result.most_mask_strips <= HELD_STRIPS
    assert result.most_open_cells <= 4 * 512 // tile


def test_the_reader_holds_only_a_few_batches_ahead():
    read = []
    prefetcher = Prefetcher(list(range(100)), lambda i: read.append(i) or i, 4, depth=2)
    most_ahead = 0
    for batch, pixels in prefetcher:
        assert pixels == batch
        most_ahead = max(most_ahead, prefetcher.waiting)
        assert len(read) <= batch[-1] + 1 + 2 * 4 + 4
    assert most_ahead <= 2 and len(read) == 100


def test_cancel_stops_between_batches_and_leaves_no_partial_files(
    tmp_path, fake_unet, fake_maskrcnn
):
    first = tmp_path / "first.ome.tif"
    second = tmp_path / "second.ome.tif"
    slide_of_discs(first, (512, 512))
    slide_of_discs(second, (512, 1024), seed=1)
    store = PredictionStore(tmp_path / "store")
    cancel = CancelToken()
    events = []

    calls_at_cancel = []

    def on_event(event):
        events.append(event)
        if isinstance(event, TilesProgress) and event.image_key == second.name:
            if event.done >= 8 and not cancel.cancelled:
                cancel.cancel()
                calls_at_cancel.append(fake_unet.calls + fake_maskrcnn.calls)

    pipeline = InferencePipeline(
        unet=fake_unet,
        maskrcnn=fake_maskrcnn,
        scale=1.0,
        batch_size=4,
        cancel=cancel,
        on_event=on_event,
    )
    summary = pipeline.run(
        [ImageJob(first.name, first), ImageJob(second.name, second)], store, "run"
    )

    assert summary.cancelled and summary.images == 1
    assert isinstance(events[-1], PipelineFinished)
    assert [e.key for e in events if isinstance(e, ImageDone)] == [first.name]
    # No batch ran after the one during which the cancel came.
    assert calls_at_cancel == [fake_unet.calls + fake_maskrcnn.calls]
    progress = [e for e in events if isinstance(e, TilesProgress)]
    assert progress[-1].done < progress[-1].total
    files = sorted(p.name for p in (store.root / "run").iterdir())
    assert files == sorted(
        [f"{first.name}.cells.json", f"{first.name}.mask.ome.tif", "run.json"]
    )
    assert store.load_cells("run", first.name).cells
