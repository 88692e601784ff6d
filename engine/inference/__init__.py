"""Inference: the three models over images of any size, into the prediction store.

Load predictors from checkpoint folders (`load_predictor`, or a class's
`from_checkpoint`), hand any subset to `InferencePipeline`, and `run` it over
`ImageJob`s; events report progress and a `CancelToken` stops it between
batches. `GradCam` gives the classifier's class activation maps.
"""

from engine.inference.events import (
    CancelToken,
    ImageDone,
    InferenceEvent,
    PipelineFinished,
    PipelineSummary,
    SuspiciousCell,
    TilesProgress,
)
from engine.inference.gradcam import GradCam, image_gradcam, last_conv_block
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
    "ImageDone",
    "ImageJob",
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
    "image_gradcam",
    "inference_device",
    "last_conv_block",
    "load_predictor",
    "model_scale",
    "read_run_file",
    "run_name_for",
]
