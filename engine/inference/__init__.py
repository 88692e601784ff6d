"""Inference: the three models over images of any size, into the prediction store.

Load predictors from checkpoint folders (`load_predictor`, or a class's
`from_checkpoint`), hand any subset to `InferencePipeline`, and `run` it over
`ImageJob`s (`resolve_input` makes them for a dataset, an image or a slide);
events report progress and a `CancelToken` stops it between batches. `GradCam`
gives the classifier's class activation maps; `export_predictions_geojson` and
`export_predictions_coco` write a run's cells for other tools.
"""

from engine.inference.events import (
    CancelToken,
    CellsFound,
    ImageDone,
    InferenceEvent,
    PipelineFinished,
    PipelineSummary,
    SuspiciousCell,
    TilesProgress,
)
from engine.inference.export import (
    export_predictions_coco,
    export_predictions_geojson,
)
from engine.inference.gradcam import GradCam, image_gradcam, last_conv_block
from engine.inference.image_output import ImageResult
from engine.inference.inputs import InferenceInput, resolve_input
from engine.inference.pipeline import (
    ImageJob,
    InferencePipeline,
    read_run_file,
    run_name_for,
)
from engine.inference.predictors import (
    ClassifierPredictor,
    InferenceError,
    MaskRCNNPredictor,
    Predictor,
    UNetPredictor,
    inference_device,
    load_predictor,
)
from engine.inference.tiling import TileGrid, model_scale

__all__ = [
    "CancelToken",
    "ClassifierPredictor",
    "GradCam",
    "CellsFound",
    "ImageDone",
    "ImageJob",
    "ImageResult",
    "InferenceInput",
    "InferenceError",
    "InferenceEvent",
    "InferencePipeline",
    "MaskRCNNPredictor",
    "PipelineFinished",
    "PipelineSummary",
    "Predictor",
    "SuspiciousCell",
    "TileGrid",
    "TilesProgress",
    "UNetPredictor",
    "export_predictions_coco",
    "export_predictions_geojson",
    "image_gradcam",
    "inference_device",
    "last_conv_block",
    "load_predictor",
    "model_scale",
    "read_run_file",
    "resolve_input",
    "run_name_for",
]
