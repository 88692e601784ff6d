"""Dice and IoU of the semantic segmentation model, per channel (cell,
nucleus), accumulated batch by batch over a validation or test set.

Two averages are kept for every channel, and both are reported:

- ``dice`` and ``iou``: the mean over images of each image's own score. An
  image where both the prediction and the truth of a channel are empty scores
  1.0 (nothing to find, nothing found); an image where only one of them is
  empty scores 0.0. This is the number reported as the model's Dice, because
  it weighs every image alike, so a few large, easy cells cannot hide the
  images where the model fails.
- ``dice_micro`` and ``iou_micro``: one score over the whole set, from the
  sums of the intersections, predicted and true pixels of all images
  (2 sum|P∩T| / (sum|P| + sum|T|)); pixel-weighted, and 1.0 when the channel
  is empty everywhere in both.

A pixel is predicted when its probability is above the threshold, and true
when its target value is above 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


class SegmentationScores:
    """Running Dice and IoU per channel, fed one batch at a time."""

    def __init__(self, channel_names: Sequence[str]):
        self.channel_names = tuple(channel_names)
        if not self.channel_names:
            raise ValueError("need at least one channel name")
        self.reset()

    def reset(self) -> None:
        """Forget every batch seen so far."""
        channels = len(self.channel_names)
        self.images = 0
        self._dice_sum = torch.zeros(channels, dtype=torch.float64)
        self._iou_sum = torch.zeros(channels, dtype=torch.float64)
        self._intersection = torch.zeros(channels, dtype=torch.int64)
        self._predicted = torch.zeros(channels, dtype=torch.int64)
        self._true = torch.zeros(channels, dtype=torch.int64)

    @torch.no_grad()
    def update(
        self,
        probs_or_logits: torch.Tensor,
        target: torch.Tensor,
        from_logits: bool = True,
        threshold: float = 0.5,
    ) -> None:
        """Add one batch: model output and binary target, both (N, C, H, W).

        With `from_logits` the output is raw logits and the threshold applies
        to their sigmoid; otherwise the output is already probabilities.
        """
        if not 0.0 < threshold < 1.0:
            raise ValueError(
                f"threshold must lie strictly between 0 and 1: {threshold}"
            )
        if probs_or_logits.ndim != 4 or probs_or_logits.shape != target.shape:
            raise ValueError(
                "output and target must both be (N, C, H, W) and of one shape, "
                f"got {tuple(probs_or_logits.shape)} and {tuple(target.shape)}"
            )
        if probs_or_logits.shape[1] != len(self.channel_names):
            raise ValueError(
                f"output has {probs_or_logits.shape[1]} channels, expected "
                f"{len(self.channel_names)}: {', '.join(self.channel_names)}"
            )

        output = probs_or_logits.detach()
        if from_logits:
            # sigmoid(x) > t exactly when x > logit(t); comparing logits avoids
            # the sigmoid and its float32 saturation near 0 and 1.
            predicted = output > math.log(threshold / (1.0 - threshold))
        else:
            predicted = output > threshold
        true = target.detach() > 0.5 if target.dtype != torch.bool else target

        batch_size, channels = predicted.shape[:2]
        predicted = predicted.reshape(batch_size, channels, -1)
        true = true.reshape(batch_size, channels, -1)
        intersection = torch.count_nonzero(predicted & true, dim=2).cpu()
        predicted_area = torch.count_nonzero(predicted, dim=2).cpu()
        true_area = torch.count_nonzero(true, dim=2).cpu()

        dice, iou = _dice_and_iou(intersection, predicted_area, true_area)
        self._dice_sum += dice.sum(dim=0)
        self._iou_sum += iou.sum(dim=0)
        self._intersection += intersection.sum(dim=0)
        self._predicted += predicted_area.sum(dim=0)
        self._true += true_area.sum(dim=0)
        self.images += batch_size

    def compute(self) -> dict[str, dict[str, float]]:
        """Scores per channel: {"cell": {"dice", "iou", "dice_micro", ...}}.

        Raises ValueError before any batch was added, as there is nothing to
        score.
        """
        if self.images == 0:
            raise ValueError("no batches were added: nothing to score")
        micro_dice, micro_iou = _dice_and_iou(
            self._intersection, self._predicted, self._true
        )
        scores = {}
        for index, name in enumerate(self.channel_names):
            scores[name] = {
                "dice": float(self._dice_sum[index]) / self.images,
                "iou": float(self._iou_sum[index]) / self.images,
                "dice_micro": float(micro_dice[index]),
                "iou_micro": float(micro_iou[index]),
            }
        return scores

    @property
    def mean_dice(self) -> float:
        """The per-image Dice averaged over the channels, one number to track."""
        scores = self.compute()
        return sum(channel["dice"] for channel in scores.values()) / len(scores)


def _dice_and_iou(
    intersection: torch.Tensor, predicted: torch.Tensor, true: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dice and IoU from pixel counts, 1.0 where prediction and truth are empty."""
    intersection = intersection.double()
    total = predicted.double() + true.double()
    union = total - intersection
    empty = total == 0
    dice = torch.where(empty, 1.0, 2.0 * intersection / total.clamp(min=1.0))
    iou = torch.where(empty, 1.0, intersection / union.clamp(min=1.0))
    return dice, iou
