"""How much of the models' own speed the inference pipeline keeps.

It compares two timings of the same predictor object, with the same
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


The models are those of `inference_models.py`, or the ones in --models.
Run: `python benchmarks/bench_inference_efficiency.py [--repeats 7]
[--models DIR]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from inference_models import BATCH, MODEL_MPP, PREDICTORS, train_models

from engine.images import open_image
from engine.images.slide_cells import read_cells_geojson
from engine.images.synth_slide import cells_path_for, write_synthetic_slide
from engine.inference import ImageJob, InferencePipeline
from engine.inference.crops import read_cell_crop
from engine.inference.tiling import read_tile, tile_reader
from engine.models import build_model, read_card, save_checkpoint
from engine.predictions import PredictionStore


def timed(work) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all of this process's threads) of `work()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, help="folder to train models into")
    parser.add_argument("--slide-size", type=int, default=3072)
    parser.add_argument(
        "--repeats", type=int, default=5, help="runs of each, the median kept"
    )
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        models = train_models(args.models or work / "models")
        efficiency_table(args, models, work)
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


if __name__ == "__main__":
    sys.exit(main())
