"""How much of the models' own speed the inference pipeline keeps, and how much
memory it needs for whole slides of growing size.

Efficiency compares two timings of the same predictor object, with the same
batch size and the same torch thread count, in the same process:
- raw: the predictor's own `predict_crops` (classifier) or `predict_tiles`
  (U-Net, Mask R-CNN) on uint8 arrays already in memory: exactly the cell
  crops (input size, e.g. 64x64x3) or tiles (e.g. 128x128x3) the pipeline
  feeds it, in batches of the same size. It includes what the predictor does
  itself (normalisation, the model, softmax or sigmoid, Mask R-CNN's
  post-processing), and nothing else.
- pipeline: `InferencePipeline.run` end to end on a synthetic JPEG-tiled
  OME-TIFF slide: opening it, reading and decoding its tiles, cutting and
  resizing crops or tiles, batching, merging cells across tile borders,
  tracing outlines and nuclei, writing the cells file, the mask pyramid and
  run.json (each as far as the model's task needs it).
"cells" is how many cells the pipeline wrote: a segmentation model that finds
none leaves out the merging and tracing its efficiency should include.
Efficiency is the pipeline's cells (or tiles) per second over the raw ones
(wall clock; "CPU eff." is the same with the process's CPU seconds). "read
CPU" is what reading alone costs (decoding the slide's JPEG tiles, cutting
and resizing, on one thread) as a share of the raw run's CPU seconds: the
work a reader thread must hide beside the model. "bound" is the most any
schedule could keep on this machine's cores: the pipeline must spend at least
the raw run's CPU seconds and the reading's, so it cannot take less wall time
than their sum over the cores (nor less than the raw run). A model whose input
costs more to read than the model takes to run, on as few cores as there are,
is input-bound: its "wall eff." can come near "bound" but not past it.
The two alternate, after one untimed warm-up each; the median of the repeats
is reported, with the machine's load average, since other work on a shared
machine comes and goes.

Memory: each slide size runs in a fresh process (by default all three models:
Mask R-CNN's cells merged across tiles, their nuclei from the U-Net, each cell
classified; the mask pyramid and the cells file), which reports its resident
memory before the run and its peak.

The models are the small variants trained for under a minute on a synthetic
dataset with the training API (nothing is downloaded), or the ones in
--models; a model there trained by another recipe is trained again.
Run: `python benchmarks/bench_inference.py [--repeats 7] [--sizes 25000 50000]
[--slides DIR]` (DIR keeps the large slides between runs; keep it out of the
repository).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from engine.images import open_image
from engine.images.slide_cells import read_cells_geojson
from engine.images.synth_slide import cells_path_for, write_synthetic_slide
from engine.inference import (
    ClassifierPredictor,
    ImageJob,
    InferencePipeline,
    MaskRCNNPredictor,
    UNetPredictor,
)
from engine.inference.crops import read_cell_crop
from engine.inference.tiling import read_tile, tile_reader
from engine.models import (
    CheckpointMismatchError,
    build_model,
    load_checkpoint,
    read_card,
    resolve_checkpoint,
    save_checkpoint,
    update_card,
)
from engine.predictions import PredictionStore
from engine.synthetic import default_pixels_per_micron

DATASET_SIZE = (256, 192)
SEG_SIZE = 128
# The synthetic dataset's pixel size at the segmentation models' input size.
MODEL_MPP = (1 / default_pixels_per_micron(DATASET_SIZE)) * DATASET_SIZE[1] / SEG_SIZE
RECIPES = {
    "classifier": dict(arch="tiny-cnn", image_size=64, batch_size=16, epochs=10),
    "unet": dict(arch="unet-resnet18", image_size=SEG_SIZE, batch_size=2, epochs=6),
    # Long enough that it finds the slides' cells (AP50 about 0.5 on the
    # synthetic test images, some 45 s): with fewer epochs no score reached
    # the threshold, and its rows left out merging and tracing altogether.
    "maskrcnn": dict(
        arch="maskrcnn-resnet18-fpn",
        image_size=SEG_SIZE,
        batch_size=2,
        epochs=30,
        warmup_steps=10,
    ),
}
PREDICTORS = {
    "classifier": ClassifierPredictor,
    "unet": UNetPredictor,
    "maskrcnn": MaskRCNNPredictor,
}
BATCH = {"classifier": 32, "unet": 8, "maskrcnn": 4}
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


def train_models(folder: Path) -> dict[str, Path]:
    """The three small models, trained briefly on a synthetic dataset."""
    from engine.synthetic import make_dataset
    from engine.training import TrainingConfig, train

    data = folder / "synthetic"
    if not data.exists():
        make_dataset(data, images_per_class=4, image_size=DATASET_SIZE, seed=0)
    runs = {}
    for task, recipe in RECIPES.items():
        run = folder / task
        if (run / "best" / "model.json").exists() and not trained_by_recipe(
            run, recipe
        ):
            shutil.rmtree(run)  # trained before the architecture or recipe changed
        if not (run / "best" / "model.json").exists():
            started = time.perf_counter()
            config = TrainingConfig(
                task=task,
                pretrained="none",
                seed=0,
                val_every=1000,
                lr=2e-3 if task == "classifier" else 1e-3,
                **recipe,
            )
            train(config, data, run)
            print(f"trained {task} in {time.perf_counter() - started:.0f} s")
        card = read_card(run)
        if task != "classifier" and "microns_per_pixel" not in card.inference:
            # Trained before training recorded the model's pixel size.
            card.inference["microns_per_pixel"] = MODEL_MPP
            update_card(run, card)
        runs[task] = resolve_checkpoint(run)
    return runs


def timed(work) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all of this process's threads) of `work()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def trained_by_recipe(run: Path, recipe: dict) -> bool:
    """Whether the model in `run` loads and was trained by today's recipe."""
    try:
        load_checkpoint(run)
    except CheckpointMismatchError:
        return False
    training = read_card(run).training
    return all(training.get(key) == value for key, value in recipe.items())


def untrained_classifier(folder: Path, like: Path) -> Path:
    """The recipe's default CNN (256-pixel crops) with random weights: its speed
    is that of a trained one."""
    card = read_card(like)
    card.arch, card.input_size = "cnn", 256
    card.options, card.metrics, card.history = {}, {}, []
    torch.manual_seed(0)
    model = build_model("classifier", "cnn", card.num_classes)
    return save_checkpoint(folder / "cnn-untrained", model, card)


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def raw_times(predictor, items: list[np.ndarray], batch: int) -> tuple[float, float]:
    """The predictor alone on pixels already in memory: wall and CPU seconds."""
    stacked = np.stack(items)
    if predictor.task == "classifier":
        run = predictor.predict_crops
    else:
        run = predictor.predict_tiles

    def every_batch():
        for start in range(0, len(stacked), batch):
            run(stacked[start : start + batch])

    return timed(every_batch)


def efficiency_row(
    task: str, checkpoint: Path, slide: Path, work: Path, repeats: int
) -> dict:
    predictor = PREDICTORS[task].from_checkpoint(checkpoint, "cpu", BATCH[task])
    pipeline = InferencePipeline(**{task: predictor}, batch_size=BATCH[task])
    if task == "classifier":
        cells = read_cells_geojson(cells_path_for(slide))
        job = ImageJob(slide.name, slide, cells)
    else:
        job = ImageJob(slide.name, slide)

    def read_items() -> list[np.ndarray]:
        """What the pipeline reads, on one thread, through its own tile cache."""
        with open_image(slide) as source:
            if task == "classifier":
                reader = tile_reader(source, [], crops=True)
                return [
                    read_cell_crop(
                        source,
                        c.bounds,
                        predictor.input_size,
                        predictor.cell_margin,
                        reader,
                    )
                    for c in cells
                ]
            grid = pipeline.grid_for(predictor, source)
            reader = tile_reader(source, [grid.scale])
            return [
                read_tile(source, grid.scale, t.x, t.y, t.size, reader)
                for t in grid.tiles
            ]

    items = read_items()
    started = time.thread_time()
    read_items()
    read_cpu = time.thread_time() - started
    raw, pipe, summaries, loads = [], [], [], [os.getloadavg()[0]]
    store = PredictionStore(work / f"store-{task}")

    def run_pipeline():
        summaries.append(pipeline.run([job], store, f"{task}-{len(summaries)}"))

    # A first pass of each is not timed: PyTorch's CPU kernels are prepared for
    # each new input shape, and Mask R-CNN's heads see many.
    raw_times(predictor, items, BATCH[task])
    run_pipeline()
    for _ in range(repeats):
        raw.append(raw_times(predictor, items, BATCH[task]))
        pipe.append(timed(run_pipeline))
        loads.append(os.getloadavg()[0])
    count = len(items)
    done = summaries[0].cells if task == "classifier" else summaries[0].tiles
    assert done == count, (done, count)
    raw_wall, raw_cpu = (statistics.median(times) for times in zip(*raw, strict=True))
    pipe_wall, pipe_cpu = (
        statistics.median(times) for times in zip(*pipe, strict=True)
    )
    ratios = sorted(r[0] / p[0] for r, p in zip(raw, pipe, strict=True))
    return {
        "model": f"{task} {predictor.card.arch}"
        + (" (random weights)" if "untrained" in str(checkpoint) else ""),
        "unit": "cells" if task == "classifier" else "tiles",
        "count": count,
        "raw": count / raw_wall,
        "pipeline": count / pipe_wall,
        "wall": raw_wall / pipe_wall,
        "cpu": raw_cpu / pipe_cpu,
        "range": (ratios[0], ratios[-1]),
        "found": summaries[0].cells,
        "read": read_cpu / raw_cpu,
        "bound": raw_wall / max(raw_wall, (raw_cpu + read_cpu) / usable_cores()),
        "load": statistics.mean(loads),
    }


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
    parser.add_argument("--slide-size", type=int, default=3072)
    parser.add_argument(
        "--repeats", type=int, default=5, help="efficiency runs, the median kept"
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=["8192", "8192x32768", "16384"],
        help="slide sizes for the memory runs: N (square) or WxH",
    )
    parser.add_argument(
        "--memory-scale",
        type=float,
        default=MEMORY_SCALE,
        help="the models' scale in the memory runs (their slides are drawn for "
        f"{MEMORY_SCALE})",
    )
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument(
        "--only", choices=("efficiency", "memory"), help="run one of the two parts"
    )
    parser.add_argument(
        "--slides",
        type=Path,
        help="folder that keeps the memory runs' slides between runs (not the repo)",
    )
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--memory-models",
        nargs="+",
        choices=("unet", "maskrcnn", "classifier"),
        default=["unet", "maskrcnn", "classifier"],
        help="the models of the memory runs (default: all three)",
    )
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
        if args.only != "memory":
            efficiency_table(args, models, work)
        if args.only != "efficiency":
            memory_table(args, models, work)
    return 0


def efficiency_table(args, models: dict[str, Path], work: Path) -> None:
    slide = work / "slide.ome.tif"
    side = args.slide_size
    write_synthetic_slide(slide, (side, side), seed=2, microns_per_pixel=0.6)
    # A larger slide for the classifier: its cells, not its tiles, are the work.
    cells_slide = work / "cells.ome.tif"
    write_synthetic_slide(cells_slide, (2 * side,) * 2, seed=3, microns_per_pixel=0.6)
    print(
        f"\nPipeline efficiency on synthetic slides at 0.6 um/px (segmentation "
        f"{side}x{side}, models at {MODEL_MPP:.2f} um/px; classifier on the cells "
        f"of a {2 * side}x{2 * side} slide), {args.threads} torch threads on "
        f"{usable_cores()} cores, median of {args.repeats}"
    )
    print(
        f"{'model':<32} {'unit':>5} {'count':>6} {'cells':>6} {'raw/s':>8} "
        f"{'pipeline/s':>10} {'wall eff.':>9} {'min-max':>9} {'CPU eff.':>9} "
        f"{'read CPU':>9} {'bound':>6} {'load':>5}"
    )
    runs = [(task, models[task]) for task in ("classifier", "unet", "maskrcnn")]
    runs.insert(1, ("classifier", untrained_classifier(work, models["classifier"])))
    for task, checkpoint in runs:
        used = cells_slide if task == "classifier" else slide
        row = efficiency_row(task, checkpoint, used, work, args.repeats)
        print(
            f"{row['model']:<32} {row['unit']:>5} {row['count']:>6} "
            f"{row['found']:>6} {row['raw']:>8.2f} {row['pipeline']:>10.2f} "
            f"{row['wall']:>9.0%} "
            f"{row['range'][0]:>4.0%}-{row['range'][1]:<4.0%} {row['cpu']:>9.0%} "
            f"{row['read']:>9.0%} {row['bound']:>6.0%} {row['load']:>5.1f}",
            flush=True,
        )
        if row["found"] == 0:
            print(
                f"  ({row['model']} found no cell: its pipeline did no merging, "
                f"tracing or cell writing, so its efficiency says little)"
            )


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
