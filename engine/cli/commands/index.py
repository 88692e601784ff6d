"""`cervix index DATASET`: images and cells per class, and every problem found."""

from __future__ import annotations

import json
from pathlib import Path

from engine.annotations import Dataset

# The help listing reads this without importing the module.
SUMMARY = "count images and cells per class and list problems"


def register(subparsers) -> None:
    parser = subparsers.add_parser("index", help=SUMMARY)
    parser.add_argument("dataset", type=Path, help="a SIPaKMeD dataset folder")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args) -> int:
    dataset = Dataset.open(args.dataset)
    counts = dataset.counts()
    if args.json:
        print(
            json.dumps(
                {
                    "dataset": str(dataset.root),
                    "synthetic": dataset.settings.synthetic,
                    "images": len(dataset.images),
                    "cells": sum(1 for _ in dataset.distinct_cells()),
                    "classes": counts,
                    "problems": [problem.to_json() for problem in dataset.problems],
                },
                indent=2,
            )
        )
        return 0
    title = f"{dataset.root}"
    if dataset.settings.synthetic:
        title += "  (SYNTHETIC sample, not real patient data)"
    print(title)
    width = max(len(name) for name in counts) if counts else 5
    print(f"{'class':<{width}}  {'images':>6}  {'crops':>6}  {'cells':>6}")
    totals = {"cluster_images": 0, "cropped_cells": 0, "cells": 0}
    for name, figures in counts.items():
        print(
            f"{name:<{width}}  {figures['cluster_images']:>6}  "
            f"{figures['cropped_cells']:>6}  {figures['cells']:>6}"
        )
        totals = {key: totals[key] + figures[key] for key in totals}
    print(
        f"{'total':<{width}}  {totals['cluster_images']:>6}  "
        f"{totals['cropped_cells']:>6}  {totals['cells']:>6}"
    )
    print("(images: cluster images; crops: isolated cell images; cells: distinct)")
    if dataset.problems:
        print(f"\n{len(dataset.problems)} problems (these cells are skipped):")
        for problem in dataset.problems:
            print(f"  {problem}")
    return 0
