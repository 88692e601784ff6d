"""How fast the pyramidal TIFF backend serves tiles, with and without the cache.

Writes a synthetic slide (`cervix synth-slide`) into a temporary folder, or
reads one given with --slide, then reads tiles at level 0 and at a reduced
level: straight from the file ("cold"), through an empty cache, and again
through the filled cache; and 512x512 views that pan across the level through
a new cache, as a viewer asks for them (that row counts views, not tiles).
Prints tiles per second and peak memory (maxrss). "Cold" means not in the tile
cache; the file itself is usually in the system's page cache.
Run: `python benchmarks/bench_image_read.py [--size 50000]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from engine.images import CachedTileReader, ImageSource, TileCache, open_image
from engine.images.synth_slide import write_synthetic_slide

THREADS = 4  # viewer worker threads reading at once


def maxrss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def tile_positions(source: ImageSource, level: int, count: int, rng) -> list:
    """Up to `count` distinct tiles of a level, in random order."""
    size = source.tile_size
    width, height = source.levels[level][:2]
    columns, rows = -(-width // size), -(-height // size)
    picks = rng.permutation(columns * rows)[:count]
    return [(int(index % columns), int(index // columns)) for index in picks]


def timed(label: str, level: int, count: int, work) -> dict:
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    return {
        "read": label,
        "level": level,
        "tiles": count,
        "seconds": seconds,
        "per_second": count / seconds if seconds else float("inf"),
        "maxrss": maxrss_mb(),
    }


def panning_views(rng, count: int, width: int, height: int, size: int) -> list:
    """Where a viewer's views go as it pans: each moves up to a quarter view."""
    right, bottom = max(width - size, 0), max(height - size, 0)
    x, y = int(rng.integers(0, right + 1)), int(rng.integers(0, bottom + 1))
    views = []
    for _ in range(count):
        step_x, step_y = rng.integers(-size // 4, size // 4 + 1, 2)
        x, y = min(max(x + int(step_x), 0), right), min(max(y + int(step_y), 0), bottom)
        views.append((x, y))
    return views


def measure_level(source, level: int, count: int, cache_bytes: int, rng) -> list:
    size = source.tile_size
    tiles = tile_positions(source, level, count, rng)
    width, height = source.levels[level][:2]

    def read_direct(tile):
        tile_x, tile_y = tile
        x, y = tile_x * size, tile_y * size
        source.read_region(level, x, y, min(size, width - x), min(size, height - y))

    reader = CachedTileReader(source, TileCache(cache_bytes))

    def read_cached():
        for tile_x, tile_y in tiles:
            reader.read_tile(level, tile_x, tile_y)

    views = panning_views(rng, len(tiles), width, height, size)
    panning_reader = CachedTileReader(source, TileCache(cache_bytes))

    def read_views():
        for x, y in views:
            panning_reader.read_region(level, x, y, size, size)

    def read_in_threads():
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(read_direct, tiles))

    rows = [
        timed("cold (no cache)", level, len(tiles), lambda: [*map(read_direct, tiles)]),
        timed(f"cold, {THREADS} threads", level, len(tiles), read_in_threads),
    ]
    for label, work, phase_reader in [
        ("cache, first pass", read_cached, reader),
        ("cache, second pass", read_cached, reader),
        ("panning views, new cache", read_views, panning_reader),
    ]:
        before = phase_reader.cache.stats()
        rows.append(timed(label, level, len(tiles), work))
        after = phase_reader.cache.stats()
        hits, misses = after.hits - before.hits, after.misses - before.misses
        rows[-1]["note"] = (
            f"{hits} hits, {misses} misses, cache {after.bytes / 1e6:.0f} MB"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192, help="slide side (pixels)")
    parser.add_argument("--slide", type=Path, help="read this slide instead")
    parser.add_argument("--tiles", type=int, default=300, help="tiles per measurement")
    parser.add_argument("--cache-mb", type=int, default=256, help="tile cache size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    with tempfile.TemporaryDirectory(prefix="bench-image-read-") as folder:
        slide = args.slide
        if slide is None:
            slide = Path(folder) / "bench.ome.tif"
            before = maxrss_mb()
            made = write_synthetic_slide(slide, (args.size, args.size), seed=args.seed)
            print(
                f"wrote {args.size}x{args.size} synthetic slide: {made.seconds:.1f} s, "
                f"{slide.stat().st_size / 1e6:.0f} MB, {made.cell_count} cells, "
                f"maxrss {before:.0f} -> {maxrss_mb():.0f} MB"
            )
        with open_image(slide) as source:
            width, height = source.size
            print(
                f"{slide.name}: {source.format_name}, {width}x{height}, "
                f"{len(source.levels)} levels, "
                f"{source.tile_size}px {source.compression} tiles\n"
            )
            # A low level that still has a few tiles: what an overview reads.
            low = max(
                (
                    index
                    for index, level in enumerate(source.levels)
                    if level.width * level.height >= 16 * source.tile_size**2
                ),
                default=0,
            )
            rows = measure_level(source, 0, args.tiles, args.cache_mb << 20, rng)
            if low:
                rows += measure_level(source, low, args.tiles, args.cache_mb << 20, rng)

    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
        f"{source.tile_size}-pixel tiles, {args.tiles} a measurement"
    )
    print(
        f"{'read':<24}{'level':>6}{'tiles':>7}{'seconds':>9}{'tiles/s':>9}"
        f"{'maxrss MB':>11}  note"
    )
    for row in rows:
        print(
            f"{row['read']:<24}{row['level']:>6}{row['tiles']:>7}"
            f"{row['seconds']:>9.2f}{row['per_second']:>9.0f}{row['maxrss']:>11.0f}"
            f"  {row.get('note', '')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
