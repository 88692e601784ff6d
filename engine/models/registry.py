"""The architectures of the three tasks, their input sizes, and `build_model`.

A task has a default architecture that follows the published recipe and a
small variant that trains in seconds on a CPU, for tests and quick trials.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from engine.errors import CervixError
from engine.models.classifier import TIMM_ARCHS, build_classifier
from engine.models.maskrcnn import build_maskrcnn
from engine.models.unet import CHANNELS, build_unet

TASKS = ("classifier", "unet", "maskrcnn")

# ImageNet statistics: the timm and smp encoders were trained with them, and
# the custom CNN uses them too so that every crop is prepared the same way.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class UnknownArchitectureError(CervixError):
    """A task or architecture name that Cervix Studio does not know."""


@dataclass(frozen=True)
class ArchSpec:
    """One architecture of a task and the square input side it is trained at."""

    task: str
    name: str
    input_size: int
    description: str
    small: bool = False
    default: bool = False


ARCHS: tuple[ArchSpec, ...] = (
    ArchSpec("classifier", "cnn", 256, "the recipe's custom CNN", default=True),
    ArchSpec("classifier", "tiny-cnn", 64, "a tiny CNN for tests", small=True),
    *(ArchSpec("classifier", name, 256, f"timm {name}") for name in TIMM_ARCHS),
    ArchSpec("unet", "unet-resnet34", 256, "U-Net, ResNet-34 encoder", default=True),
    ArchSpec("unet", "unet-resnet18", 128, "U-Net, ResNet-18 encoder", small=True),
    ArchSpec("unet", "unet-resnet50", 256, "U-Net, ResNet-50 encoder"),
    ArchSpec(
        "maskrcnn",
        "maskrcnn-r50-fpn-v2",
        512,
        "torchvision Mask R-CNN R50-FPN v2",
        default=True,
    ),
    ArchSpec(
        "maskrcnn",
        "maskrcnn-resnet18-fpn",
        256,
        "Mask R-CNN, ResNet-18 and a narrow FPN",
        small=True,
    ),
)


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise UnknownArchitectureError(
            f"unknown task {task!r}", hint=f"use one of {', '.join(TASKS)}"
        )


def archs(task: str) -> list[ArchSpec]:
    """The named architectures of a task, the default first."""
    _check_task(task)
    specs = [spec for spec in ARCHS if spec.task == task]
    return sorted(specs, key=lambda spec: not spec.default)


def default_arch(task: str) -> ArchSpec:
    return archs(task)[0]


def small_arch(task: str) -> ArchSpec:
    return next(spec for spec in archs(task) if spec.small)


def arch_spec(task: str, arch: str) -> ArchSpec:
    """The spec of a named architecture; any other timm model is a classifier too."""
    for spec in archs(task):
        if spec.name == arch:
            return spec
    if task == "classifier":
        import timm

        if timm.is_model(arch):
            return ArchSpec("classifier", arch, 256, f"timm {arch}")
    names = ", ".join(spec.name for spec in archs(task))
    extra = " or any timm model name" if task == "classifier" else ""
    raise UnknownArchitectureError(
        f"unknown {task} architecture {arch!r}", hint=f"use {names}{extra}"
    )


def output_count(task: str, class_count: int) -> int:
    """The number of model outputs for `class_count` named classes or channels."""
    if task == "maskrcnn":
        return class_count + 1  # the background
    return class_count


def build_model(task: str, arch: str, num_classes: int, **options) -> nn.Module:
    """A model with random weights: `num_classes` logits, channels, or boxes classes.

    For "unet", `num_classes` is the number of mask channels (2: cell, nucleus).
    For "maskrcnn" it counts the background, as torchvision does.
    `image_size` in `options` overrides the architecture's input size.
    """
    spec = arch_spec(task, arch)
    image_size = int(options.pop("image_size", None) or spec.input_size)
    if task == "classifier":
        return build_classifier(spec.name, num_classes, **options)
    if task == "unet":
        return build_unet(spec.name, num_classes or len(CHANNELS), **options)
    return build_maskrcnn(spec.name, num_classes, image_size, **options)
