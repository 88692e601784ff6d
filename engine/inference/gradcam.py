"""Grad-CAM class activation maps of the cell classifier: where in a crop the
evidence for its class lies, per cell and pasted into an image-sized map.

The maps are taken from the last convolutional block: the last layer whose
output still has a spatial grid, found by running the model once and
watching every layer, so the custom CNN and timm backbones are treated alike.
Grad-CAM needs gradients, so this part runs with autograd on, outside
`torch.inference_mode()`; no weight is changed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch import nn

from engine.inference.crops import CellBounds, CropWindow, crop_window
from engine.inference.predictors import ClassifierPredictor, InferenceError
from engine.training.tasks.classifier import cell_crop

log = logging.getLogger(__name__)


def last_conv_block(model: nn.Module, input_size: int, device) -> str:
    """The name of the last layer whose output is a (N, C, H, W) grid with H and W
    above 1: for a CNN, the output of its last convolutional stage."""
    order: list[str] = []
    hooks = []

    def watch(name):
        def hook(_module, _inputs, output):
            if (
                torch.is_tensor(output)
                and output.ndim == 4
                and min(output.shape[-2:]) > 1
            ):
                order.append(name)

        return hook

    for name, module in model.named_modules():
        if name:
            hooks.append(module.register_forward_hook(watch(name)))
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, input_size, input_size, device=device))
    finally:
        for hook in hooks:
            hook.remove()
    if not order:
        raise InferenceError(
            "the classifier has no convolutional layer, so it has no Grad-CAM map",
            hint="use a convolutional classifier (cnn, tiny-cnn, resnet, ...)",
        )
    return order[-1]


class GradCam:
    """Grad-CAM maps of a classifier's crops, for the class asked or predicted."""

    def __init__(self, predictor: ClassifierPredictor, layer: str | None = None):
        self.predictor = predictor
        self.model = predictor.model
        self.layer_name = layer or last_conv_block(
            self.model, predictor.input_size, predictor.device
        )
        self.layer = dict(self.model.named_modules())[self.layer_name]
        log.debug("Grad-CAM from layer %r", self.layer_name)

    def maps(
        self,
        crops: Sequence[np.ndarray] | np.ndarray,
        classes: Sequence[int] | None = None,
    ) -> np.ndarray:
        """(N, S, S) maps in [0, 1] for crops of side S (each map's own maximum is 1,
        or it is all 0 when nothing speaks for the class)."""
        prepared = [self.predictor.prepare_crop(np.asarray(c)) for c in crops]
        if not prepared:
            size = self.predictor.input_size
            return np.zeros((0, size, size), np.float32)
        pixels = np.stack(prepared)
        results = []
        for part in self.predictor._batches(len(pixels)):
            wanted = None if classes is None else list(classes[part])
            results.append(self._batch(pixels[part], wanted))
        return np.concatenate(results)

    def _batch(self, pixels: np.ndarray, classes: list[int] | None) -> np.ndarray:
        captured = {}

        def keep(_module, _inputs, output):
            captured["activations"] = output

        hook = self.layer.register_forward_hook(keep)
        try:
            with torch.inference_mode(False), torch.enable_grad():
                images = self.predictor._normalised(pixels)
                logits = self.model(images)
                if classes is None:
                    classes = logits.argmax(dim=1).tolist()
                chosen = logits[torch.arange(len(classes)), torch.tensor(classes)]
                activations = captured["activations"]
                (gradients,) = torch.autograd.grad(chosen.sum(), activations)
        finally:
            hook.remove()
        weights = gradients.mean(dim=(2, 3), keepdim=True)
        cams = torch.relu((weights * activations).sum(dim=1)).detach().float().cpu()
        size = pixels.shape[1]
        out = np.zeros((len(cams), size, size), np.float32)
        for index, cam in enumerate(cams.numpy()):
            peak = float(cam.max())
            if peak > 0:
                out[index] = cv2.resize(
                    cam / peak, (size, size), interpolation=cv2.INTER_LINEAR
                )
        return np.clip(out, 0.0, 1.0)


def map_in_image(cam: np.ndarray, window: CropWindow) -> np.ndarray:
    """A crop's map resized to its square in the image, as uint8 0-255."""
    resized = cv2.resize(
        cam, (window.side, window.side), interpolation=cv2.INTER_LINEAR
    )
    return np.clip(np.rint(resized * 255.0), 0, 255).astype(np.uint8)


def paste_max(canvas: np.ndarray, values: np.ndarray, x0: int, y0: int) -> None:
    """Paste `values` into an (H, W) canvas at (x0, y0), keeping the maximum where
    maps overlap; what falls outside the canvas is cut off."""
    height, width = values.shape
    left, top = max(x0, 0), max(y0, 0)
    right = min(x0 + width, canvas.shape[1])
    bottom = min(y0 + height, canvas.shape[0])
    if left >= right or top >= bottom:
        return
    target = canvas[top:bottom, left:right]
    np.maximum(
        target, values[top - y0 : bottom - y0, left - x0 : right - x0], out=target
    )


def image_gradcam(
    predictor: ClassifierPredictor,
    image: np.ndarray,
    cell_bounds: Sequence[tuple[float, float, float, float]],
    classes: Sequence[int] | None = None,
) -> np.ndarray:
    """The (H, W) map of a small image in [0, 1]: each cell's map on its crop's
    square, the maximum where squares overlap."""
    margin = predictor.cell_margin
    size = predictor.input_size
    crops = [cell_crop(image, CellBounds(tuple(b)), size, margin) for b in cell_bounds]
    cams = GradCam(predictor).maps(crops, classes)
    canvas = np.zeros(image.shape[:2], np.uint8)
    for cam, bounds in zip(cams, cell_bounds, strict=True):
        window = crop_window(tuple(bounds), margin)
        paste_max(canvas, map_in_image(cam, window), window.x0, window.y0)
    return canvas.astype(np.float32) / 255.0
