"""Scores of the cell classifier: accuracy, macro F1, per-class precision and
recall, and the confusion matrix, computed with torchmetrics.

Definitions, as reported everywhere in Cervix Studio:

- accuracy: the share of cells whose predicted class is the true class
  (micro average over all cells).
- precision of a class: TP / (TP + FP); recall: TP / (TP + FN); F1: their
  harmonic mean. A ratio whose denominator is zero (a class never predicted,
  or never present) is reported as 0.0.
- macro F1: the unweighted mean of the per-class F1 over the classes that
  occur in the truth or in the predictions. A class absent from both has no
  F1 at all and is left out of the mean rather than counted as 0 or 1, so
  evaluating on a split without, say, dyskeratotic cells neither rewards nor
  punishes the model for that class. A class present on one side only counts
  with F1 = 0.
- confusion matrix: rows are true classes, columns predicted classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class ClassificationReport:
    """The classifier's scores on one evaluation set, per class and overall."""

    class_names: tuple[str, ...]
    accuracy: float
    macro_f1: float
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    support: dict[str, int]
    confusion: tuple[tuple[int, ...], ...]

    @property
    def cells(self) -> int:
        """How many cells were evaluated."""
        return sum(self.support.values())

    def to_json(self) -> dict:
        """The report as plain JSON types, for model.json and the command line."""
        return {
            "class_names": list(self.class_names),
            "cells": self.cells,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "precision": dict(self.precision),
            "recall": dict(self.recall),
            "f1": dict(self.f1),
            "support": dict(self.support),
            "confusion": [list(row) for row in self.confusion],
        }

    def format_table(self) -> str:
        """A plain-text table: per-class scores, then the confusion matrix."""
        names = self.class_names
        name_width = max(len("macro F1"), *(len(name) for name in names))
        lines = [
            f"{'class':<{name_width}}  precision  recall     F1  cells",
        ]
        for name in names:
            lines.append(
                f"{name:<{name_width}}  {self.precision[name]:>9.3f}"
                f"  {self.recall[name]:>6.3f}  {self.f1[name]:>5.3f}"
                f"  {self.support[name]:>5d}"
            )
        lines.append(f"{'accuracy':<{name_width}}  {self.accuracy:>9.3f}")
        lines.append(f"{'macro F1':<{name_width}}  {self.macro_f1:>9.3f}")
        lines.append("")
        lines.append("confusion matrix (rows: true class, columns: predicted class)")

        # Columns are numbered so that long class names do not widen the grid.
        count_width = max(3, *(len(str(v)) for row in self.confusion for v in row))
        header = " " * (name_width + 8) + " ".join(
            f"{f'[{i}]':>{count_width}}" for i in range(len(names))
        )
        lines.append(header)
        for i, (name, row) in enumerate(zip(names, self.confusion, strict=True)):
            counts = " ".join(f"{value:>{count_width}d}" for value in row)
            lines.append(f"{f'[{i}]':>4}  {name:<{name_width}}  {counts}")
        return "\n".join(lines)


def classification_report(
    y_true: Sequence[int] | np.ndarray | torch.Tensor,
    y_pred: Sequence[int] | np.ndarray | torch.Tensor,
    class_names: Sequence[str],
) -> ClassificationReport:
    """Score predicted classes against true classes.

    `y_true` holds one class index per cell. `y_pred` holds either one class
    index per cell, or one row of class probabilities (or logits) per cell, in
    which case the most likely class is the prediction.
    """
    # torchmetrics takes seconds to import; only pay for it when scoring.
    from torchmetrics.functional.classification import (
        multiclass_accuracy,
        multiclass_confusion_matrix,
        multiclass_f1_score,
        multiclass_precision,
        multiclass_recall,
    )

    names = tuple(class_names)
    num_classes = len(names)
    if num_classes < 2:
        raise ValueError(f"need at least two class names, got {list(names)}")

    target = torch.as_tensor(np.asarray(y_true)).long().reshape(-1)
    predicted = _predicted_classes(y_pred, num_classes)
    if predicted.shape != target.shape:
        raise ValueError(
            f"{target.numel()} true labels but {predicted.numel()} predictions"
        )
    if target.numel() == 0:
        raise ValueError("no cells to evaluate: y_true is empty")
    for what, labels in (("true", target), ("predicted", predicted)):
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(
                f"{what} class indices must lie in 0..{num_classes - 1} "
                f"({num_classes} class names), got {labels.min()}..{labels.max()}"
            )

    options = {"num_classes": num_classes, "validate_args": False}
    accuracy = multiclass_accuracy(predicted, target, average="micro", **options)
    macro_f1 = multiclass_f1_score(predicted, target, average="macro", **options)
    f1 = multiclass_f1_score(predicted, target, average="none", **options)
    precision = multiclass_precision(predicted, target, average="none", **options)
    recall = multiclass_recall(predicted, target, average="none", **options)
    confusion = multiclass_confusion_matrix(predicted, target, **options)

    support = torch.bincount(target, minlength=num_classes)
    return ClassificationReport(
        class_names=names,
        accuracy=_score(accuracy),
        macro_f1=_score(macro_f1),
        precision={n: _score(v) for n, v in zip(names, precision, strict=True)},
        recall={n: _score(v) for n, v in zip(names, recall, strict=True)},
        f1={n: _score(v) for n, v in zip(names, f1, strict=True)},
        support={n: int(v) for n, v in zip(names, support, strict=True)},
        confusion=tuple(tuple(int(v) for v in row) for row in confusion.tolist()),
    )


def _predicted_classes(
    y_pred: Sequence[int] | np.ndarray | torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Class indices from indices, or from a (cells, classes) score array."""
    predicted = torch.as_tensor(np.asarray(y_pred))
    if predicted.ndim == 2:
        if predicted.shape[1] != num_classes:
            raise ValueError(
                f"class scores have {predicted.shape[1]} columns "
                f"but there are {num_classes} class names"
            )
        return predicted.argmax(dim=1)
    if predicted.is_floating_point():
        rounded = predicted.round()
        if not torch.equal(rounded, predicted):
            raise ValueError(
                "1-D predictions must be class indices; pass probabilities "
                "as a (cells, classes) array"
            )
    return predicted.long().reshape(-1)


def _score(value: torch.Tensor) -> float:
    """A score as a plain float, rounded to what torchmetrics' float32 resolves."""
    return round(float(value), 6)
