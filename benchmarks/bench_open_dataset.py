"""How long opening a SIPaKMeD-sized dataset takes (966 images, ~8,100 .dat files).

Writes a dataset of that shape into a temporary folder (cluster images with 4
to 5 cells each, outlines of 60 to 200 vertices, as hand-drawn outlines have),
then opens it several times and prints a table.
Run: `python benchmarks/bench_open_dataset.py`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from engine.annotations import Dataset
from engine.annotations.classes import SIPAKMED_CLASSES
from engine.annotations.datfile import DatStyle, format_dat

# SIPaKMeD's cluster images per class: 966 in all.
IMAGES_PER_CLASS = (126, 108, 271, 238, 223)


def outline(rng, centre, radius, vertices) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    phase, wobble = rng.uniform(0, 2 * np.pi, 2)
    radii = radius * (0.9 + 0.08 * np.sin(3 * angles + phase) * np.cos(wobble))
    return np.column_stack(
        [centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)]
    )


def write_sipakmed_sized(root: Path, seed: int = 0) -> int:
    """Write the dataset; return the number of .dat files."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (2048, 1536), (230, 220, 225))
    style = DatStyle(decimals=None)
    files = 0
    for cell_class, count in zip(SIPAKMED_CLASSES, IMAGES_PER_CLASS, strict=True):
        folder = root / cell_class.folder / cell_class.folder
        folder.mkdir(parents=True)
        for number in range(1, count + 1):
            stem = f"{number:03d}"
            image.save(folder / f"{stem}.bmp")
            for index in range(1, int(rng.integers(4, 6)) + 1):
                centre = (200 + 380 * index, 300 + rng.uniform(0, 900))
                cell = outline(rng, centre, 150, int(rng.integers(60, 200)))
                nucleus = outline(rng, centre, 30, int(rng.integers(30, 80)))
                (folder / f"{stem}_cyt{index:02d}.dat").write_bytes(
                    format_dat(cell, style)
                )
                (folder / f"{stem}_nuc{index:02d}.dat").write_bytes(
                    format_dat(nucleus, style)
                )
                files += 2
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = write_sipakmed_sized(root)
        timings = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            dataset = Dataset.open(root)
            timings.append(time.perf_counter() - start)
        print("Opening a SIPaKMeD-sized dataset (files in the page cache)")
        print(
            f"{'images':>8} {'cells':>7} {'.dat files':>10} {'problems':>9} "
            f"{'median s':>9} {'best s':>7} {'target s':>9}"
        )
        print(
            f"{len(dataset.images):>8} {dataset.cell_count():>7} {files:>10} "
            f"{len(dataset.problems):>9} {statistics.median(timings):>9.2f} "
            f"{min(timings):>7.2f} {2.0:>9.1f}"
        )


if __name__ == "__main__":
    main()
