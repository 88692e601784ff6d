"""Predictions are stored per run and image, apart from the annotations."""

from __future__ import annotations

import numpy as np
import pytest

from engine.images import open_image
from engine.predictions import (
    ImagePredictions,
    PredictedCell,
    PredictionStore,
    PredictionStoreError,
)


def sample_predictions() -> ImagePredictions:
    square = np.array([[10, 10], [50, 10], [50, 40], [10, 40]], float)
    return ImagePredictions(
        image_key="im_Parabasal/001",
        image_size=(64, 48),
        models={"maskrcnn": "models/maskrcnn-a", "classifier": "models/cnn-b"},
        classes=["parabasal", "dyskeratotic"],
        cells=[
            PredictedCell(
                id=1,
                cytoplasm=square,
                nucleus=square / 2 + 10,
                score=0.93,
                probabilities={"parabasal": 0.2, "dyskeratotic": 0.8},
                predicted_class="dyskeratotic",
            )
        ],
    )


def test_cells_round_trip_under_the_dataset_project_folder(tmp_path):
    store = PredictionStore.for_dataset(tmp_path)

    path = store.save_cells("run-1", sample_predictions())
    loaded = store.load_cells("run-1", "im_Parabasal/001")

    assert path == tmp_path / ".cervix/predictions/run-1/im_Parabasal/001.cells.json"
    cell = loaded.cells[0]
    np.testing.assert_allclose(cell.cytoplasm, sample_predictions().cells[0].cytoplasm)
    assert cell.predicted_class == "dyskeratotic"
    assert cell.abnormal_probability({"dyskeratotic"}) == pytest.approx(0.8)
    assert store.runs() == ["run-1"]
    assert store.images_with_cells("run-1") == ["im_Parabasal/001"]
    assert store.load_cells("run-1", "im_Parabasal/002") is None


def test_masks_are_images_the_viewer_can_open(tmp_path):
    store = PredictionStore.for_slide(tmp_path / "slide.ome.tif")
    probabilities = np.zeros((48, 64, 2), np.float32)
    probabilities[10:40, 10:50, 0] = 1.0
    probabilities[20:30, 20:30, 1] = 0.5

    path = store.save_mask("run-1", "slide", probabilities)

    assert store.find_mask("run-1", "slide") == path
    with open_image(path) as source:
        pixels = source.read_region(0, 0, 0, 64, 48)
    assert pixels[25, 25].tolist() == [255, 128, 0]
    assert pixels[0, 0].tolist() == [0, 0, 0]
    np.testing.assert_allclose(
        store.load_mask("run-1", "slide"), probabilities, atol=1 / 255
    )


def test_a_damaged_file_names_itself(tmp_path):
    store = PredictionStore(tmp_path)
    path = store.save_cells("run-1", sample_predictions())
    path.write_text("{ not json")

    with pytest.raises(PredictionStoreError) as caught:
        store.load_cells("run-1", "im_Parabasal/001")

    assert str(path) in str(caught.value)


def test_run_names_cannot_escape_the_store(tmp_path):
    with pytest.raises(ValueError):
        PredictionStore(tmp_path).save_cells("../x", sample_predictions())
