"""Augmentation with Albumentations, applied identically to image, masks and outlines.

Smears are seen from any side, so flips and quarter turns are free; stains
differ between labs and days, so brightness, contrast, hue and saturation
vary. Cell size varies less, so scaling stays within 15 percent.
"""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np


def _geometry(scale: float = 0.15) -> list:
    return [
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
        A.RandomRotate90(p=0.5),
        A.Affine(
            scale=(1 - scale, 1 + scale),
            rotate=(-15, 15),
            border_mode=cv2.BORDER_REPLICATE,
            p=0.5,
        ),
    ]


def _stain() -> list:
    return [
        A.RandomBrightnessContrast(brightness_limit=0.15, contrast_limit=0.15, p=0.5),
        # Hue in OpenCV's 0-180 degrees: small shifts, like another batch of stain.
        A.HueSaturationValue(
            hue_shift_limit=8, sat_shift_limit=15, val_shift_limit=8, p=0.5
        ),
    ]


def crop_augmentation(seed: int) -> A.Compose:
    """For square cell crops (the classifier)."""
    return A.Compose([*_geometry(), *_stain()], seed=seed)


def tile_augmentation(tile: int, seed: int, augment: bool = True) -> A.Compose:
    """For image and masks (the U-Net): a random square tile, then, when
    `augment`, the rest."""
    return A.Compose(
        [
            A.PadIfNeeded(tile, tile, border_mode=cv2.BORDER_REPLICATE),
            A.RandomCrop(tile, tile),
            *((_geometry() + _stain()) if augment else []),
        ],
        seed=seed,
    )


def outline_augmentation(seed: int) -> A.Compose:
    """For image and cell outlines given as keypoints (Mask R-CNN).

    Outlines stay vertices, not masks, so each cell is rasterised once, after
    the transform, at full precision. Vertices that leave the image are kept
    and clipped later, so that a cell cut by the border keeps its shape.
    """
    return A.Compose(
        [*_geometry(), *_stain()],
        keypoint_params=A.KeypointParams(format="xy", remove_invisible=False),
        seed=seed,
    )


def transform_outlines(
    augmentation: A.Compose, image: np.ndarray, outlines: list[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Apply one random draw of `augmentation` to an image and its outlines."""
    lengths = [len(outline) for outline in outlines]
    points = (
        np.concatenate(outlines).astype(np.float32)
        if outlines
        else np.zeros((0, 2), np.float32)
    )
    result = augmentation(image=image, keypoints=points)
    moved = np.asarray(result["keypoints"], dtype=np.float64).reshape(-1, 2)
    split_at = np.cumsum(lengths)[:-1]
    return result["image"], list(np.split(moved, split_at)) if outlines else []
