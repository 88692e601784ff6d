"""Pretrained weights come from a given file or the local cache, never the network."""

from __future__ import annotations

import pytest
import torch
from torchvision.models import resnet18

from engine.models import (
    PretrainedMismatchError,
    apply_pretrained,
    build_model,
    find_pretrained,
)


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """Empty library caches, and any attempt to download fails the test."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "torch"))

    def no_network(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    monkeypatch.setattr("huggingface_hub.hf_hub_download", no_network)
    return tmp_path


@pytest.mark.parametrize(
    ("task", "arch"),
    [
        ("classifier", "resnet18"),
        ("unet", "unet-resnet34"),
        ("maskrcnn", "maskrcnn-r50-fpn-v2"),
    ],
)
def test_without_weights_nothing_downloads_and_training_starts_random(
    empty_caches, task, arch
):
    assert find_pretrained(task, arch, "auto", download=False) is None


def test_weights_in_the_torch_hub_cache_are_found(empty_caches):
    checkpoints = empty_caches / "torch" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.manual_seed(3)
    torch.save(resnet18().state_dict(), checkpoints / "resnet18-f37072fd.pth")
    weights = find_pretrained("maskrcnn", "maskrcnn-resnet18-fpn", "auto")
    assert weights is not None and weights.source.endswith("resnet18-f37072fd.pth")


@pytest.mark.parametrize(
    ("task", "arch", "prefix"),
    [
        ("unet", "unet-resnet18", "encoder."),
        ("maskrcnn", "maskrcnn-resnet18-fpn", "backbone.body."),
        ("classifier", "resnet18", ""),
    ],
)
def test_a_plain_resnet_state_dict_fills_the_backbone(tmp_path, task, arch, prefix):
    torch.manual_seed(7)
    source = resnet18()
    torch.save(source.state_dict(), tmp_path / "resnet18.pth")
    model = build_model(task, arch, 3, image_size=128)

    weights = find_pretrained(task, arch, str(tmp_path / "resnet18.pth"))
    report = apply_pretrained(model, weights)

    state = model.state_dict()
    assert report.prefix == prefix
    assert torch.equal(
        state[f"{prefix}layer3.1.conv2.weight"], source.layer3[1].conv2.weight
    )
    # The ImageNet head (1000 classes) does not fit and stays out.
    assert "fc.weight" in report.skipped


def test_weights_of_another_architecture_are_refused(tmp_path):
    torch.manual_seed(0)
    torch.save(build_model("classifier", "tiny-cnn", 5).state_dict(), tmp_path / "t.pt")
    model = build_model("unet", "unet-resnet18", 2)
    with pytest.raises(PretrainedMismatchError) as error:
        apply_pretrained(
            model, find_pretrained("unet", "unet-resnet18", str(tmp_path / "t.pt"))
        )
    assert "t.pt" in error.value.user_message()
