"""Cell classifiers: the recipe's custom CNN, its tiny test variant, timm backbones.

Every classifier takes a batch of square cell crops, normalised with the
ImageNet mean and standard deviation, and returns one logit per class.
"""

from __future__ import annotations

import torch
from torch import nn

# The published recipe: blocks of conv + batch norm + ReLU + max pooling on
# 256x256 crops, then global pooling, dropout and one linear layer.
CNN_CHANNELS = (32, 64, 128, 256, 256)
TINY_CHANNELS = (16, 32, 64)

TIMM_ARCHS = (
    "resnet18",
    "resnet34",
    "resnet50",
    "efficientnet_b0",
    "densenet121",
    "convnext_tiny",
)


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """A 3x3 convolution with batch norm and ReLU, then 2x2 max pooling."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class CellCNN(nn.Module):
    """A plain convolutional classifier of cell crops."""

    def __init__(
        self,
        num_classes: int,
        channels: tuple[int, ...] = CNN_CHANNELS,
        dropout: float = 0.5,
    ):
        super().__init__()
        blocks = []
        in_channels = 3
        for out_channels in channels:
            blocks.append(conv_block(in_channels, out_channels))
            in_channels = out_channels
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(in_channels, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.pool(self.features(images)).flatten(1)
        return self.head(self.dropout(features))


def build_classifier(arch: str, num_classes: int, **options) -> nn.Module:
    """A classifier by architecture name: "cnn", "tiny-cnn" or a timm model name."""
    if arch == "cnn":
        return CellCNN(num_classes, CNN_CHANNELS, options.get("dropout", 0.5))
    if arch == "tiny-cnn":
        return CellCNN(num_classes, TINY_CHANNELS, options.get("dropout", 0.2))
    import timm

    return timm.create_model(
        arch,
        pretrained=False,
        num_classes=num_classes,
        drop_rate=options.get("dropout", 0.0),
    )


def timm_hub_id(arch: str) -> str | None:
    """The Hugging Face repository timm loads `arch`'s default weights from."""
    import timm

    config = timm.models.get_pretrained_cfg(arch)
    return getattr(config, "hf_hub_id", None) if config is not None else None
