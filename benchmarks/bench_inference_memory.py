"""How much memory the inference pipeline needs for whole slides of growing
size.

Each slide size runs in a fresh process (by default all three models: Mask
R-CNN's cells merged across tiles, their nuclei from the U-Net, each cell
classified; the mask pyramid and the cells file), which reports its resident
memory before the run and its peak. The slides are drawn at 1/8 of the
models' pixel size, as a fine scan would be.

The models are those of `inference_models.py`, or the ones in --models.
Run: `python benchmarks/bench_inference_memory.py [--sizes 25000 50000]
[--slides DIR] [--models DIR]` (DIR keeps the large slides between runs; keep
it out of the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from inference_models import (
    BATCH,
    MODEL_MPP,
    PREDICTORS,
    RECIPES,
    SEG_SIZE,
    train_models,
)

from engine.images.synth_slide import write_synthetic_slide
from engine.inference import ImageJob, InferencePipeline
from engine.predictions import PredictionStore

# The memory runs' slides are drawn at 1/8 of the models' pixel size, as a fine
# scan would be: the models see them at scale 0.125, a 50,000-pixel slide in a
# few thousand tiles, and still find its cells.
MEMORY_SCALE = 0.125
MEMORY_MPP = MODEL_MPP * MEMORY_SCALE


def maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def _status_mb(field: str) -> float | None:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return None


def reset_peak() -> bool:
    """Start the peak resident memory (VmHWM) afresh, where Linux allows it, so
    that loading the model does not count as the run's peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def rss_mb() -> float:
    """Resident memory now (Linux), else the peak so far."""
    return _status_mb("VmRSS") or maxrss_mb()


def peak_mb() -> float:
    """Peak resident memory since `reset_peak` (Linux), else since the start."""
    return _status_mb("VmHWM") or maxrss_mb()


def memory_child(
    slide: Path, checkpoints: dict[str, Path], scale: float, threads: int
) -> None:
    """Run in its own process: the models over a whole slide; print JSON."""
    torch.set_num_threads(threads)
    predictors = {
        task: PREDICTORS[task].from_checkpoint(path, "cpu", BATCH[task])
        for task, path in checkpoints.items()
    }
    pipeline = InferencePipeline(**predictors, scale=scale)
    with tempfile.TemporaryDirectory() as folder:
        # One batch of each first, so that the models' own working memory is
        # counted in "before" and the growth is the pipeline's.
        for task, predictor in predictors.items():
            if task == "classifier":
                side = predictor.input_size
                predictor.predict_crops(
                    np.zeros((BATCH[task], side, side, 3), np.uint8)
                )
            else:
                predictor.predict_tiles(
                    np.zeros((BATCH[task], SEG_SIZE, SEG_SIZE, 3), np.uint8)
                )
        reset_peak()
        before = rss_mb()
        started = time.perf_counter()
        summary = pipeline.run(
            [ImageJob(slide.name, slide)], PredictionStore(Path(folder)), "memory"
        )
        seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "tiles": summary.tiles,
                "cells": summary.cells,
                "seconds": seconds,
                "before_mb": before,
                "peak_mb": peak_mb(),
            }
        )
    )


def memory_row(
    size: tuple[int, int],
    checkpoints: dict[str, Path],
    slides: Path,
    scale: float,
    threads: int,
) -> dict:
    slide = slides / f"slide-{size[0]}x{size[1]}-{MEMORY_MPP:g}um.ome.tif"
    written = None
    if not slide.exists():
        started = time.perf_counter()
        write_synthetic_slide(slide, size, seed=1, microns_per_pixel=MEMORY_MPP)
        written = time.perf_counter() - started
    command = [
        sys.executable,
        __file__,
        "--memory-child",
        str(slide),
        "--checkpoints",
        json.dumps({task: str(path) for task, path in checkpoints.items()}),
        "--scale",
        str(scale),
        "--threads",
        str(threads),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    figures = json.loads(output.stdout.strip().splitlines()[-1])
    return {"size": size, "written": written, "load": os.getloadavg()[0], **figures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, help="folder to train models into")
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=["8192", "8192x32768", "16384"],
        help="slide sizes: N (square) or WxH",
    )
    parser.add_argument(
        "--memory-scale",
        type=float,
        default=MEMORY_SCALE,
        help=f"the models' scale (the slides are drawn for {MEMORY_SCALE})",
    )
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument(
        "--slides",
        type=Path,
        help="folder that keeps the slides between runs (not the repository)",
    )
    parser.add_argument(
        "--memory-models",
        nargs="+",
        choices=("unet", "maskrcnn", "classifier"),
        default=["unet", "maskrcnn", "classifier"],
        help="the models run (default: all three)",
    )
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--checkpoints", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        checkpoints = {t: Path(p) for t, p in json.loads(args.checkpoints).items()}
        memory_child(args.memory_child, checkpoints, args.scale, args.threads)
        return 0

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        models = train_models(args.models or work / "models")
        memory_table(args, models, work)
    return 0


def memory_table(args, models: dict[str, Path], work: Path) -> None:
    slides = args.slides or work
    slides.mkdir(parents=True, exist_ok=True)
    chosen = {task: models[task] for task in args.memory_models}
    names = ", ".join(f"{task} {RECIPES[task]['arch']}" for task in chosen)
    print(
        f"\nPeak resident memory of `InferencePipeline.run` with {names} "
        f"(segmentation tiles of {SEG_SIZE} pixels) over whole synthetic slides "
        f"(JPEG OME-TIFF, {MEMORY_MPP:g} um/px) at scale {args.memory_scale}: "
        f"tiles, cells merged across tiles, classified and written to the cells "
        f"file, the "
        f"mask pyramid written at the U-Net's scale. Each slide in a fresh "
        f"process; 'before' is after loading the models and one batch each, the "
        f"peak is VmHWM reset there; {args.threads} torch threads; slides in "
        f"{slides}"
    )
    print(
        f"{'slide':>13} {'tiles':>6} {'cells':>6} {'seconds':>8} "
        f"{'before MB':>10} {'peak MB':>8} {'growth MB':>10} {'load':>5} "
        f"{'written in':>10}"
    )
    for text in args.sizes:
        width, _, height = text.partition("x")
        size = (int(width), int(height or width))
        row = memory_row(size, chosen, slides, args.memory_scale, args.threads)
        written = f"{row['written']:.0f} s" if row["written"] else "before"
        print(
            f"{size[0]:>6}x{size[1]:<6} {row['tiles']:>6} {row['cells']:>6} "
            f"{row['seconds']:>8.1f} {row['before_mb']:>10.0f} "
            f"{row['peak_mb']:>8.0f} {row['peak_mb'] - row['before_mb']:>10.0f} "
            f"{row['load']:>5.1f} {written:>10}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
