"""Instance segmentation of cells: torchvision's Mask R-CNN, and a small CPU variant.

Each instance is one cell, labelled with its class or with a single "cell"
class. The model takes float images in [0, 1] and normalises them itself.
Label 0 is the background, so a model for K classes has K + 1 outputs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torchvision.models import resnet18
from torchvision.models.detection import MaskRCNN, maskrcnn_resnet50_fpn_v2
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor

# Every box the model keeps above this score reaches the metrics, so that AP
# sees the whole precision-recall curve; the user's score threshold is applied
# afterwards, in `postprocess`.
MODEL_SCORE_FLOOR = 0.05

ASPECT_RATIOS = (0.5, 1.0, 2.0)


def anchor_sizes_for(image_size: int) -> tuple[int, ...]:
    """Anchor sides for the five FPN levels, scaled to cells at this input size.

    torchvision's defaults (32 to 512 pixels) suit COCO objects; a cell in a
    256-pixel image is 15 to 80 pixels wide.
    """
    base = max(4, image_size // 32)
    return tuple(base * 2**level for level in range(5))


def _anchor_generator(image_size: int, options: dict) -> AnchorGenerator:
    sizes = tuple(options.get("anchor_sizes") or anchor_sizes_for(image_size))
    return AnchorGenerator(
        tuple((size,) for size in sizes), (ASPECT_RATIOS,) * len(sizes)
    )


def _common_options(image_size: int, options: dict, small: bool) -> dict:
    proposals = 300 if small else 1000
    return {
        "min_size": image_size,
        "max_size": options.get("max_size", 2 * image_size),
        "box_score_thresh": MODEL_SCORE_FLOOR,
        "box_detections_per_img": options.get("detections_per_image", 100),
        "rpn_pre_nms_top_n_train": 2 * proposals,
        "rpn_post_nms_top_n_train": proposals,
        "rpn_pre_nms_top_n_test": proposals,
        "rpn_post_nms_top_n_test": proposals // 2,
        "box_batch_size_per_image": 64 if small else 512,
    }


def build_r50_fpn_v2(num_classes: int, image_size: int, **options) -> nn.Module:
    """torchvision's Mask R-CNN R50-FPN v2 with random weights and cell anchors.

    Its layers and names are torchvision's own, so COCO or ImageNet weights
    from torchvision load into it unchanged.
    """
    model = maskrcnn_resnet50_fpn_v2(
        weights=None,
        weights_backbone=None,
        num_classes=num_classes,
        **_common_options(image_size, options, small=False),
    )
    # Same number of anchors per place as torchvision's generator, so the
    # RPN head's shapes (and any COCO weights) stay valid.
    model.rpn.anchor_generator = _anchor_generator(image_size, options)
    return model


def build_resnet18_fpn(num_classes: int, image_size: int, **options) -> nn.Module:
    """A small Mask R-CNN: ResNet-18 and a narrow FPN, fast enough for a CPU."""
    fpn_channels = int(options.get("fpn_channels", 64))
    backbone = resnet18(weights=None, norm_layer=nn.BatchNorm2d)
    body_layers = OrderedDict((f"layer{i}", str(i - 1)) for i in range(1, 5))
    fpn_backbone = BackboneWithFPN(
        backbone,
        return_layers=dict(body_layers),
        in_channels_list=[64, 128, 256, 512],
        out_channels=fpn_channels,
    )
    representation = 256
    return MaskRCNN(
        fpn_backbone,
        num_classes=None,
        rpn_anchor_generator=_anchor_generator(image_size, options),
        box_head=TwoMLPHead(fpn_channels * 7 * 7, representation),
        box_predictor=FastRCNNPredictor(representation, num_classes),
        mask_head=MaskRCNNHeads(fpn_channels, (fpn_channels,) * 2, 1),
        mask_predictor=MaskRCNNPredictor(fpn_channels, fpn_channels, num_classes),
        **_common_options(image_size, options, small=True),
    )


BUILDERS = {
    "maskrcnn-r50-fpn-v2": build_r50_fpn_v2,
    "maskrcnn-resnet18-fpn": build_resnet18_fpn,
}


def build_maskrcnn(arch: str, num_classes: int, image_size: int, **options):
    """A Mask R-CNN by architecture name; `num_classes` counts the background."""
    return BUILDERS[arch](num_classes, image_size, **options)


@dataclass
class Instances:
    """The confident cells found in one image."""

    masks: np.ndarray  # (N, H, W) bool
    scores: np.ndarray  # (N,) float
    labels: np.ndarray  # (N,) int, index into the model's class names
    boxes: np.ndarray  # (N, 4) float, x0 y0 x1 y1

    def __len__(self) -> int:
        return len(self.scores)


def postprocess(
    output: dict[str, torch.Tensor],
    score_threshold: float = 0.5,
    mask_threshold: float = 0.5,
) -> Instances:
    """Keep the instances scoring at least `score_threshold`, masks as booleans."""
    scores = output["scores"].detach().float().cpu()
    keep = scores >= score_threshold
    masks = output["masks"].detach().float().cpu()[keep]
    if masks.ndim == 4:
        masks = masks[:, 0]
    return Instances(
        masks=(masks >= mask_threshold).numpy(),
        scores=scores[keep].numpy(),
        labels=output["labels"].detach().cpu()[keep].numpy().astype(np.int64) - 1,
        boxes=output["boxes"].detach().float().cpu()[keep].numpy(),
    )
