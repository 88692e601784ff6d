"""Semantic segmentation of whole cells and nuclei: a U-Net with a ResNet encoder.

The model returns two logit channels per pixel, in the order of `CHANNELS`:
the whole cell (which contains its nucleus) and the nucleus. Channels may
overlap, so each is a separate sigmoid, not a softmax over classes.
"""

from __future__ import annotations

from torch import nn

CHANNELS = ("cell", "nucleus")

ENCODERS = {
    "unet-resnet18": "resnet18",
    "unet-resnet34": "resnet34",
    "unet-resnet50": "resnet50",
}

# The U-Net halves the image five times, so sides must be multiples of 32.
SIZE_MULTIPLE = 32


def build_unet(arch: str, num_classes: int = len(CHANNELS), **options) -> nn.Module:
    """A U-Net by architecture name, with random weights unless `encoder_weights`.

    `encoder_weights="imagenet"` downloads smp's encoder weights; only the
    caller who was asked to download passes it.
    """
    import segmentation_models_pytorch as smp

    return smp.Unet(
        encoder_name=ENCODERS[arch],
        encoder_weights=options.get("encoder_weights"),
        in_channels=3,
        classes=num_classes,
    )


def encoder_hub_file(arch: str) -> tuple[str, str]:
    """The Hugging Face repository and revision of smp's ImageNet encoder weights."""
    from segmentation_models_pytorch.encoders import encoders

    settings = encoders[ENCODERS[arch]]["pretrained_settings"]["imagenet"]
    return settings["repo_id"], settings["revision"]
