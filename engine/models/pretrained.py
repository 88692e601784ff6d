"""Pretrained weights: from a file the user gives, or the libraries' local caches.

Nothing is downloaded unless the caller passes `download=True` (the user's
`--download-weights`). Without weights a model starts from random ones, and
the run's log and model card say so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from engine.errors import CervixError
from engine.models.checkpoint import WEIGHTS_FILE, resolve_checkpoint
from engine.models.tensors import import_state_dict, unwrap

log = logging.getLogger(__name__)

# Where a backbone's own tensor names sit inside each of our models.
MODEL_PREFIXES = ("", "encoder.", "backbone.body.")


class PretrainedMismatchError(CervixError):
    """A weights file none of whose tensors fit the architecture."""


@dataclass
class PretrainedWeights:
    """Tensors to start from and where they came from, for the log and the card."""

    tensors: dict[str, torch.Tensor]
    source: str


@dataclass
class LoadReport:
    loaded: int
    skipped: list[str]
    prefix: str


def _hub_cached(
    repo_id: str, filename: str, revision: str | None = None
) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, revision=revision)
    return Path(found) if isinstance(found, str) else None


def _torch_hub_cached(url: str) -> Path | None:
    path = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    return path if path.is_file() else None


def _torchvision_urls(arch: str) -> list[str]:
    """Weights torchvision publishes for a Mask R-CNN, best first."""
    from torchvision.models import ResNet18_Weights, ResNet50_Weights
    from torchvision.models.detection import MaskRCNN_ResNet50_FPN_V2_Weights

    if arch == "maskrcnn-r50-fpn-v2":
        return [
            MaskRCNN_ResNet50_FPN_V2_Weights.COCO_V1.url,
            ResNet50_Weights.IMAGENET1K_V1.url,
        ]
    return [ResNet18_Weights.IMAGENET1K_V1.url]


def _from_cache(task: str, arch: str) -> PretrainedWeights | None:
    """Weights for `arch` already on this computer, or None; never downloads."""
    if task == "classifier" and arch not in ("cnn", "tiny-cnn"):
        from engine.models.classifier import timm_hub_id

        hub_id = timm_hub_id(arch)
        for filename in ("model.safetensors", "pytorch_model.bin"):
            path = _hub_cached(hub_id, filename) if hub_id else None
            if path is not None:
                return PretrainedWeights(import_state_dict(path), str(path))
    if task == "unet":
        from engine.models.unet import encoder_hub_file

        repo_id, revision = encoder_hub_file(arch)
        path = _hub_cached(repo_id, "model.safetensors", revision)
        if path is not None:
            return PretrainedWeights(import_state_dict(path), str(path))
    if task == "maskrcnn":
        for url in _torchvision_urls(arch):
            path = _torch_hub_cached(url)
            if path is not None:
                return PretrainedWeights(import_state_dict(path), str(path))
    return None


def _download(task: str, arch: str) -> PretrainedWeights | None:
    """Fetch published weights for `arch`; only on the user's explicit request."""
    if task == "classifier":
        if arch in ("cnn", "tiny-cnn"):
            return None
        import timm

        model = timm.create_model(arch, pretrained=True)
        return PretrainedWeights(model.state_dict(), f"timm:{arch} (downloaded)")
    if task == "unet":
        from huggingface_hub import hf_hub_download

        from engine.models.unet import encoder_hub_file

        repo_id, revision = encoder_hub_file(arch)
        path = hf_hub_download(repo_id, "model.safetensors", revision=revision)
        return PretrainedWeights(import_state_dict(path), str(path))
    url = _torchvision_urls(arch)[0]
    tensors = torch.hub.load_state_dict_from_url(
        url, map_location="cpu", check_hash=True, weights_only=True
    )
    return PretrainedWeights(tensors, url)


def find_pretrained(
    task: str, arch: str, pretrained: str | None = "auto", download: bool = False
) -> PretrainedWeights | None:
    """The weights to start from: "none", a file or checkpoint folder, or "auto"
    (the local cache).

    With "auto", a download happens only when `download` is true and the
    cache holds nothing.
    """
    if pretrained in (None, "none"):
        return None
    if pretrained != "auto":
        path = Path(pretrained).expanduser()
        if path.is_dir():  # fine-tuning a Cervix Studio checkpoint
            path = resolve_checkpoint(path) / WEIGHTS_FILE
        return PretrainedWeights(import_state_dict(path), str(path))
    found = _from_cache(task, arch)
    if found is None and download:
        log.info("Downloading pretrained weights for %s, as asked", arch)
        found = _download(task, arch)
    return found


def apply_pretrained(model: nn.Module, weights: PretrainedWeights) -> LoadReport:
    """Load every tensor whose name and shape fit; a new head keeps random weights.

    Tries the names as they are and under each of `MODEL_PREFIXES`, so a
    plain ResNet's weights land in a U-Net encoder or a Mask R-CNN backbone.
    """
    target = unwrap(model).state_dict()
    best: tuple[dict, str] = ({}, "")
    for prefix in MODEL_PREFIXES:
        fitting = {
            prefix + name: tensor
            for name, tensor in weights.tensors.items()
            if prefix + name in target and target[prefix + name].shape == tensor.shape
        }
        if len(fitting) > len(best[0]):
            best = (fitting, prefix)
    fitting, prefix = best
    if not fitting:
        example = next(iter(weights.tensors))
        raise PretrainedMismatchError(
            f"none of its {len(weights.tensors)} tensors fit this architecture "
            f"(its first is {example!r}, the model's first is {next(iter(target))!r})",
            weights.source,
            "give weights of the same architecture, or train without --pretrained",
        )
    unwrap(model).load_state_dict(fitting, strict=False)
    skipped = sorted(set(weights.tensors) - {n.removeprefix(prefix) for n in fitting})
    log.info(
        "Pretrained weights from %r: %d tensors loaded, %d kept random, %d skipped",
        weights.source,
        len(fitting),
        len(target) - len(fitting),
        len(skipped),
    )
    return LoadReport(loaded=len(fitting), skipped=skipped, prefix=prefix)
