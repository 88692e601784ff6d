"""`cervix evaluate MODEL --data DATASET`: a trained model's figures on a split.

MODEL is a checkpoint folder or a training run's folder (its best checkpoint
is used). Prints a table, or JSON with `--json`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from engine.annotations import Dataset
from engine.models import resolve_checkpoint
from engine.training.evaluation import SIDES, evaluate_checkpoint

# The help listing reads this without importing the module.
SUMMARY = "score a trained model on a dataset's test split"


def register(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help=SUMMARY)
    parser.add_argument("model", type=Path, help="a checkpoint or run folder")
    parser.add_argument("--data", type=Path, required=True, help="a dataset folder")
    parser.add_argument(
        "--split",
        default="test",
        choices=SIDES,
        help="which images: the model's own test split (default), or all",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def plain(value):
    """JSON has no NaN: an undefined figure becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def run(args) -> int:
    dataset = Dataset.open(args.data)
    folder = resolve_checkpoint(args.model)
    evaluation, card = evaluate_checkpoint(
        folder, dataset, args.split, args.device, args.batch_size
    )
    if args.json:
        print(
            json.dumps(
                plain(
                    {
                        "model": str(folder),
                        "task": card.task,
                        "arch": card.arch,
                        "epoch": card.epoch,
                        "classes": card.classes,
                        "data": str(dataset.root),
                        "synthetic": dataset.settings.synthetic,
                        "split": args.split,
                        "loss": evaluation.loss,
                        "metrics": evaluation.metrics,
                        "report": evaluation.report,
                    }
                ),
                indent=2,
            )
        )
        return 0
    title = f"{card.task} {card.arch} (epoch {card.epoch}) from {folder}"
    print(title)
    note = "  (SYNTHETIC sample)" if dataset.settings.synthetic else ""
    print(f"on {dataset.root}, {args.split} split{note}")
    if evaluation.loss is not None:
        print(f"loss {evaluation.loss:.4f}")
    print()
    print(evaluation.table)
    return 0
