"""The whole pipeline with briefly trained models on a synthetic slide: cells with
class probabilities in the store, a mask that matches the true cells, Grad-CAM;
and the real Mask R-CNN's instances through the same path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from shapely.geometry import Polygon

from engine.images import open_image
from engine.images.slide_cells import read_cells_geojson
from engine.inference import (
    CellsFound,
    ClassifierPredictor,
    ImageDone,
    ImageJob,
    InferencePipeline,
    MaskRCNNPredictor,
    TilesProgress,
    UNetPredictor,
)
from engine.models import build_model
from engine.predictions import PredictionStore
from engine.review.unet_mask import UnetMask
from engine.training.data import fill_polygons

from .conftest import disc_image, fake_card, write_png

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slide_run(
    synthetic_slide, classifier_checkpoint, unet_checkpoint, tmp_path_factory
):
    events = []
    pipeline = InferencePipeline(
        classifier=ClassifierPredictor.from_checkpoint(classifier_checkpoint, "cpu"),
        unet=UNetPredictor.from_checkpoint(unet_checkpoint, "cpu"),
        gradcam=True,
        on_event=events.append,
        # Small batches, so that even this small slide's cells come in parts.
        batch_size=2,
    )
    store = PredictionStore(tmp_path_factory.mktemp("slide-run") / "predictions")
    path = synthetic_slide.path
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        summary = pipeline.run([ImageJob(path.name, path)], store, "run")
    finally:
        torch.set_num_threads(threads)
    return summary, store, events, pipeline


def test_cells_are_announced_as_they_are_written_before_the_slide_is_done(
    slide_run,
):
    _summary, store, events, _pipeline = slide_run
    key = "smear.ome.tif"
    stored = store.load_cells("run", key).cells
    found = [e for e in events if isinstance(e, CellsFound)]
    done_at = next(i for i, e in enumerate(events) if isinstance(e, ImageDone))

    # More than one batch, every one before the image is done: a viewer can
    # draw the slide's cells while the rest is still being analysed.
    assert len(found) > 1
    assert all(events.index(e) < done_at for e in found)
    assert {e.image_key for e in found} == {key}
    announced = [cell for e in found for cell in e.cells]
    assert [cell.id for cell in announced] == [cell.id for cell in stored]
    for told, kept in zip(announced, stored, strict=True):
        assert np.allclose(told.cytoplasm, kept.cytoplasm, atol=0.01)
        assert told.predicted_class == kept.predicted_class


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def test_the_slides_cells_are_in_the_store_with_class_probabilities(slide_run):
    summary, store, events, pipeline = slide_run
    key = "smear.ome.tif"
    predictions = store.load_cells("run", key)

    assert summary.cells == len(predictions.cells) >= 8
    assert [cell.id for cell in predictions.cells] == list(range(1, summary.cells + 1))
    classes = pipeline.classifier.classes
    assert predictions.classes == classes and predictions.image_size == (1024, 1024)
    for cell in predictions.cells:
        assert sum(cell.probabilities.values()) == pytest.approx(1, abs=1e-3)
        assert cell.predicted_class == max(
            cell.probabilities, key=cell.probabilities.get
        )
        if cell.nucleus is not None:
            assert Polygon(cell.cytoplasm).buffer(1).contains(Polygon(cell.nucleus))
    assert sum(summary.class_counts.values()) == summary.cells
    assert summary.suspicious[0].abnormal_probability >= max(
        s.abnormal_probability for s in summary.suspicious
    )
    progress = [e for e in events if isinstance(e, TilesProgress)]
    assert progress[-1].done == progress[-1].total > 1
    assert [e.key for e in events if isinstance(e, ImageDone)] == [key]


def test_the_unet_mask_matches_the_true_cells(slide_run, synthetic_slide):
    _, store, _, _ = slide_run
    truth = read_cells_geojson(synthetic_slide.cells_path)
    true_cells = fill_polygons((1024, 1024), [c.cytoplasm for c in truth]) > 0
    true_nuclei = fill_polygons((1024, 1024), [c.nucleus for c in truth]) > 0
    with open_image(store.find_mask("run", "smear.ome.tif")) as mask:
        assert mask.level_count > 1
    # The mask file keeps the U-Net's own resolution; read over the slide, it
    # is stretched to the slide's pixels.
    with UnetMask.open(store, "run", "smear.ome.tif") as mask:
        assert mask.size == (1024, 1024)
        pixels = mask.read(0, 0, 1024, 1024)[2] * 255
    predicted = store.load_cells("run", "smear.ome.tif").cells
    outlines = fill_polygons((1024, 1024), [c.cytoplasm for c in predicted]) > 0

    # Six short epochs on 256 x 192 cluster images, read here at the same pixel
    # size from a slide drawn differently: cell Dice about 0.8, nucleus 0.6.
    assert _dice(pixels[..., 0] >= 128, true_cells) >= 0.6
    assert _dice(pixels[..., 1] >= 128, true_nuclei) >= 0.4
    assert _dice(outlines, true_cells) >= 0.6


def test_the_slides_gradcam_map_covers_the_slide_and_its_cells(slide_run):
    _, store, _, _ = slide_run
    path = store.find_gradcam("run", "smear.ome.tif")
    assert path.name.endswith(".gradcam.ome.tif")
    # On a slide the map is kept at a quarter of the slide's pixels.
    with open_image(path) as heatmap:
        assert heatmap.size == (256, 256)
        values = heatmap.read_region(0, 0, 0, 256, 256)[..., 0]
    cells = store.load_cells("run", "smear.ome.tif").cells
    outlines = [(c.cytoplasm + 0.5) / 4 - 0.5 for c in cells]
    on_cells = fill_polygons((256, 256), outlines) > 0
    assert values[on_cells].mean() > 4 * max(values[~on_cells].mean(), 1)


def test_the_real_mask_rcnn_feeds_cells_into_the_store(tmp_path):
    torch.manual_seed(0)
    model = build_model("maskrcnn", "maskrcnn-resnet18-fpn", 2, image_size=64)
    card = fake_card("maskrcnn", 64)
    # Untrained, its boxes score about one half: keep them all.
    predictor = MaskRCNNPredictor(model, card, "cpu", score_threshold=0.0)
    pixels = disc_image((150, 100), [(40, 50, 15), (100, 40, 12)])
    path = write_png(tmp_path / "two.png", pixels)

    found = predictor.predict_tiles(pixels[None, :64, :64])[0]
    assert found.masks.shape[1:] == (64, 64) and found.masks.dtype == bool

    store = PredictionStore(tmp_path / "store")
    pipeline = InferencePipeline(maskrcnn=predictor, scale=1.0)
    summary = pipeline.run([ImageJob("two.png", path)], store, "run")
    cells = store.load_cells("run", "two.png").cells
    assert summary.cells == len(cells) > 0
    for cell in cells:
        x_min, y_min = cell.cytoplasm.min(axis=0)
        x_max, y_max = cell.cytoplasm.max(axis=0)
        assert -1 <= x_min and x_max <= 150 and -1 <= y_min and y_max <= 100
        assert Polygon(cell.cytoplasm).is_valid and cell.source == "maskrcnn"
