"""Model output kept apart from the annotations: per model, per image."""

from engine.predictions.store import (
    ImagePredictions,
    PredictedCell,
    PredictionStore,
    PredictionStoreError,
)

__all__ = [
    "ImagePredictions",
    "PredictedCell",
    "PredictionStore",
    "PredictionStoreError",
]
