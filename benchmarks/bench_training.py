"""Training throughput of each model, and the share of step time spent waiting for data.

Draws a synthetic dataset into a temporary folder, then runs the real training
loop (`engine.training.train`) for a few steps per case and cancels it, so no
validation or checkpoint is timed. The first steps warm up and are not
counted. "data" is the share of step time the loop waited for its next batch;
the target is under 10%. "prepare" is the one-off cutting of crops and masks
that the cache under `.cervix/cache/` saves on later runs.
Run: `python benchmarks/bench_training.py [--quick] [--threads N]`.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.annotations import Dataset
from engine.synthetic import make_dataset
from engine.training import CancelToken, StepEnded, TrainingConfig, train
from engine.training.data import ArrayCache
from engine.training.setup import default_workers
from engine.training.tasks import make_task


@dataclass
class Case:
    task: str
    arch: str
    image_size: int
    batch_size: int
    steps: int  # measured steps, after the warm-up
    workers: int | None = None  # None: the loop's default for the machine
    warmup: int = 2


CASES = [
    Case("classifier", "tiny-cnn", 64, 32, 20, workers=0),
    Case("classifier", "tiny-cnn", 64, 32, 20),
    Case("classifier", "cnn", 256, 16, 4),
    Case("classifier", "resnet18", 256, 16, 3),
    Case("unet", "unet-resnet18", 128, 8, 6),
    Case("unet", "unet-resnet34", 256, 8, 2, warmup=1),
    Case("maskrcnn", "maskrcnn-resnet18-fpn", 256, 4, 5),
    Case("maskrcnn", "maskrcnn-r50-fpn-v2", 512, 2, 2, warmup=1),
]
QUICK = {"tiny-cnn", "unet-resnet18", "maskrcnn-resnet18-fpn"}


def prepare_seconds(case: Case, dataset: Dataset, cache_root: Path) -> float:
    """Time to cut crops or rasterise masks for the whole dataset, from scratch."""
    config = TrainingConfig(task=case.task, arch=case.arch, image_size=case.image_size)
    started = time.perf_counter()
    make_task(config, dataset).prepare(
        ArrayCache(cache_root / f"{case.arch}-{case.workers}")
    )
    return time.perf_counter() - started


def run_case(case: Case, dataset: Dataset, out: Path) -> dict:
    cancel = CancelToken()
    steps: list[tuple[float, int, float]] = []  # (seconds, images, data share)
    last = [time.perf_counter()]

    def on_event(event) -> None:
        if not isinstance(event, StepEnded):
            return
        now = time.perf_counter()
        seconds = now - last[0]
        last[0] = now
        steps.append((seconds, case.batch_size, event.data_share))
        if len(steps) >= case.warmup + case.steps:
            cancel.cancel()

    config = TrainingConfig(
        task=case.task,
        arch=case.arch,
        image_size=case.image_size,
        batch_size=case.batch_size,
        workers=case.workers,
        epochs=1000,
        pretrained="none",
        log_every=1,
        device="cpu",
    )
    run = train(config, dataset, out / f"{case.arch}-{case.workers}", on_event, cancel)
    assert run.cancelled
    measured = steps[case.warmup :]
    seconds = sum(s for s, _, _ in measured)
    waited = sum(s * share for s, _, share in measured)
    return {
        "images_per_s": sum(n for _, n, _ in measured) / seconds,
        "step_s": seconds / len(measured),
        "data": waited / seconds,
        "workers": default_workers(torch.device("cpu"), 1)
        if case.workers is None
        else case.workers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small variants only")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--images-per-class", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as folder:
        root = make_dataset(
            Path(folder) / "synthetic",
            images_per_class=args.images_per_class,
            image_size=(512, 384),
        )
        dataset = Dataset.open(root)
        print(
            f"synthetic dataset: {len(dataset.images)} images, "
            f"{dataset.cell_count()} cells; {torch.get_num_threads()} CPU threads"
        )
        header = (
            f"{'task':<10} {'arch':<22} {'size':>4} {'batch':>5} {'workers':>7} "
            f"{'prepare s':>9} {'step s':>7} {'images/s':>9} {'data':>6}"
        )
        print(header)
        print("-" * len(header))
        for case in CASES:
            if args.quick and case.arch not in QUICK:
                continue
            prepare = prepare_seconds(case, dataset, Path(folder) / "cache")
            figures = run_case(case, dataset, Path(folder) / "runs")
            print(
                f"{case.task:<10} {case.arch:<22} {case.image_size:>4} "
                f"{case.batch_size:>5} {figures['workers']:>7} {prepare:>9.2f} "
                f"{figures['step_s']:>7.3f} {figures['images_per_s']:>9.1f} "
                f"{figures['data']:>6.1%}",
                flush=True,
            )


if __name__ == "__main__":
    main()
