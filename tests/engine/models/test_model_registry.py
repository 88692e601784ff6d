"""The registry builds every task's default and small model with the right outputs."""

from __future__ import annotations

import pytest
import torch
from torchvision.models.detection import maskrcnn_resnet50_fpn_v2

from engine.models import (
    UnknownArchitectureError,
    archs,
    build_model,
    default_arch,
    output_count,
    postprocess,
    small_arch,
)


def test_each_task_has_the_recipe_default_and_a_small_variant():
    assert default_arch("classifier").name == "cnn"
    assert default_arch("classifier").input_size == 256
    assert default_arch("unet").name == "unet-resnet34"
    assert default_arch("maskrcnn").name == "maskrcnn-r50-fpn-v2"
    assert small_arch("classifier").name == "tiny-cnn"
    assert small_arch("unet").name == "unet-resnet18"
    assert small_arch("unet").input_size == 128
    assert small_arch("maskrcnn").name == "maskrcnn-resnet18-fpn"
    names = {spec.name for spec in archs("classifier")}
    assert {"resnet18", "resnet50", "efficientnet_b0"} <= names


@pytest.mark.parametrize("arch", ["cnn", "tiny-cnn", "resnet18", "efficientnet_b0"])
def test_classifiers_give_one_logit_per_class(arch):
    model = build_model("classifier", arch, 5).eval()
    with torch.no_grad():
        logits = model(torch.rand(2, 3, 64, 64))
    assert logits.shape == (2, 5)


@pytest.mark.parametrize("arch", ["unet-resnet18", "unet-resnet34"])
def test_unet_gives_a_cell_and_a_nucleus_channel_per_pixel(arch):
    model = build_model("unet", arch, 2).eval()
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 64, 96))
    assert logits.shape == (1, 2, 64, 96)


def test_default_mask_rcnn_has_torchvision_v2_layers_so_coco_weights_fit():
    ours = build_model("maskrcnn", "maskrcnn-r50-fpn-v2", output_count("maskrcnn", 90))
    reference = maskrcnn_resnet50_fpn_v2(weights=None, weights_backbone=None)
    ours_shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    reference_shapes = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert ours_shapes == reference_shapes
    # Anchors follow the input size, so cells are not smaller than every anchor.
    assert ours.rpn.anchor_generator.sizes[0] == (16,)
    assert ours.transform.min_size == (512,)


def test_small_mask_rcnn_finds_instances_and_postprocess_keeps_confident_ones():
    torch.manual_seed(0)
    model = build_model("maskrcnn", "maskrcnn-resnet18-fpn", 3, image_size=128).eval()
    with torch.no_grad():
        output = model([torch.rand(3, 128, 160)])[0]
    assert output["masks"].shape[-2:] == (128, 160)

    output = {
        "scores": torch.tensor([0.9, 0.3, 0.7]),
        "labels": torch.tensor([1, 2, 2]),
        "boxes": torch.zeros(3, 4),
        "masks": torch.stack(
            [torch.full((1, 4, 4), value) for value in (0.8, 0.9, 0.4)]
        ),
    }
    found = postprocess(output, score_threshold=0.5, mask_threshold=0.5)
    assert len(found) == 2
    assert found.labels.tolist() == [0, 1]  # background is not a class
    assert found.masks.dtype == bool
    assert found.masks[0].all() and not found.masks[1].any()


def test_an_unknown_architecture_is_refused_with_the_known_names():
    with pytest.raises(UnknownArchitectureError) as error:
        build_model("unet", "unet-vgg11", 2)
    assert "unet-resnet34" in error.value.user_message()
    with pytest.raises(UnknownArchitectureError):
        build_model("detector", "cnn", 2)
