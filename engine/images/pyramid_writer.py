"""Write a pyramidal, tiled OME-TIFF (JPEG, or lossless zlib for masks) from a
function that paints tiles.

Level 0 is painted tile by tile in file order and handed to tifffile as it
comes. Each reduced level is made on the way by halving the level above one
row of tiles at a time; its tiles are JPEG-encoded at once and parked in a
temporary file until tifffile writes that level after level 0. Memory holds
one row of tiles per level, however large the slide.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import imagecodecs
import numpy as np
import tifffile

from engine.images.errors import ImageSourceError

log = logging.getLogger(__name__)

JPEG_QUALITY = 90
# Tiles are encoded here, in the worker threads, the way tifffile encodes RGB
# JPEG tiles (YCbCr, 2x2 chroma subsampling), so the tags it writes fit them.
JPEG_SUBSAMPLING = (2, 2)
# Lossless compression for pixels that are numbers, not pictures (model masks).
# Masks are mostly empty: the fastest level packs them nearly as tight.
LOSSLESS = ("zlib", "deflate")
ZLIB_LEVEL = 1
COMPRESSIONS = ("jpeg", *LOSSLESS)

TilePainter = Callable[[int, int], np.ndarray]
Progress = Callable[[int, int], None]


class SlideWriteError(ImageSourceError):
    """Writing a slide file failed, e.g. because the disk is full."""


@dataclass(frozen=True)
class PyramidLevel:
    width: int
    height: int
    columns: int
    rows: int


def pyramid_levels(width: int, height: int, tile_size: int) -> list[PyramidLevel]:
    """Level sizes from halving until a level fits in one tile."""
    levels = []
    while True:
        levels.append(
            PyramidLevel(
                width,
                height,
                math.ceil(width / tile_size),
                math.ceil(height / tile_size),
            )
        )
        if max(width, height) <= tile_size:
            return levels
        width, height = math.ceil(width / 2), math.ceil(height / 2)


class _TileSpool:
    """Encoded tiles of the reduced levels, parked in an unnamed temporary file."""

    def __init__(self, folder: Path, level_count: int):
        self._file = tempfile.TemporaryFile(dir=folder, prefix=".pyramid-")
        self._index: list[list[tuple[int, int]]] = [[] for _ in range(level_count)]
        self._end = 0

    def add(self, level: int, encoded: bytes) -> None:
        self._file.seek(self._end)
        self._file.write(encoded)
        self._index[level].append((self._end, len(encoded)))
        self._end += len(encoded)

    def tiles(self, level: int) -> Iterator[bytes]:
        for offset, length in self._index[level]:
            self._file.seek(offset)
            yield self._file.read(length)

    def close(self) -> None:
        self._file.close()


class _Reducer:
    """Halves the tiles of one level into rows of tiles of the next."""

    def __init__(self, level: PyramidLevel, tile_size: int):
        self.level = level
        self.tile_size = tile_size
        self.row = np.full((tile_size, level.columns * tile_size, 3), 255, np.uint8)

    def add(self, tile_x: int, tile_y: int, tile: np.ndarray) -> None:
        """Take a tile of the level above and put its halved copy in the row."""
        half = self.tile_size // 2
        small = cv2.resize(tile, (half, half), interpolation=cv2.INTER_AREA)
        top = (tile_y % 2) * half
        self.row[top : top + half, tile_x * half : (tile_x + 1) * half] = small

    def finish_row(self) -> Iterator[np.ndarray]:
        """The row's tiles, left to right; then the row is white for the next ones."""
        size = self.tile_size
        for column in range(self.level.columns):
            yield self.row[:, column * size : (column + 1) * size]
        self.row[:] = 255


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class _WorkAhead:
    """Runs `work(0)`, `work(1)`, ... in threads, a few ahead of who asks in order.

    numpy, OpenCV and the JPEG encoder release the interpreter lock while they
    work, so the threads use the other cores; only a few results wait at once.
    """

    def __init__(self, work: Callable[[int], object], count: int, workers: int | None):
        self.work = work
        self.count = count
        workers = workers or default_workers()
        self.window = 2 * workers
        self._executor = ThreadPoolExecutor(workers, "pyramid-writer")
        self._futures: dict[int, Future] = {}
        self._submitted = 0

    def result(self, index: int):
        while self._submitted < min(index + 1 + self.window, self.count):
            self._futures[self._submitted] = self._executor.submit(
                self.work, self._submitted
            )
            self._submitted += 1
        return self._futures.pop(index).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def write_pyramidal_ome_tiff(
    path: Path,
    size: tuple[int, int],
    paint_tile: TilePainter,
    *,
    tile_size: int = 512,
    microns_per_pixel: float | None = None,
    name: str = "image",
    description: str = "",
    quality: int = JPEG_QUALITY,
    progress: Progress | None = None,
    workers: int | None = None,
    compression: str = "jpeg",
) -> list[PyramidLevel]:
    """Write `paint_tile(tile_x, tile_y)` tiles of level 0 and the reduced levels.

    Each painted tile must be RGB uint8 of shape (tile_size, tile_size, 3);
    what lies beyond the image's right and bottom edges is cut off.
    `paint_tile` is called from `workers` threads at once (default: the
    cores, at most 4), a few tiles ahead of the writer. The file appears under
    `path` only when complete. `progress(rows_done, rows)` follows level 0
    and is called from the calling thread. `compression` is "jpeg" (for
    pictures) or "zlib" / "deflate" (lossless, for masks of numbers).
    """
    if tile_size % 16 or tile_size < 32:
        raise ValueError(f"the tile size must be a multiple of 16, not {tile_size}")
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression is one of {COMPRESSIONS}, not {compression!r}")
    lossless = compression in LOSSLESS
    width, height = size
    levels = pyramid_levels(width, height, tile_size)
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        spool = _TileSpool(path.parent, len(levels))
    except OSError as error:
        raise SlideWriteError(
            f"cannot write into the folder: {error.strerror or error}",
            path.parent,
            "check that the folder exists and is writable",
        ) from error
    reducers = [_Reducer(level, tile_size) for level in levels[1:]]

    def encode(tile: np.ndarray) -> bytes:
        if lossless:
            return imagecodecs.zlib_encode(np.ascontiguousarray(tile), level=ZLIB_LEVEL)
        return imagecodecs.jpeg_encode(
            tile,
            level=quality,
            subsampling=JPEG_SUBSAMPLING,
            colorspace="RGB",
            outcolorspace="YCBCR",
        )

    def reduce(level_index: int, tile_x: int, tile_y: int, tile: np.ndarray) -> None:
        """Pass a tile of `level_index` down the pyramid."""
        if level_index + 1 >= len(levels):
            return
        reducer = reducers[level_index]
        reducer.add(tile_x, tile_y, tile)
        level = levels[level_index]
        last_in_row = tile_x == level.columns - 1
        row_done = tile_y % 2 == 1 or tile_y == level.rows - 1
        if last_in_row and row_done:
            for column, reduced in enumerate(reducer.finish_row()):
                spool.add(level_index + 1, encode(reduced))
                reduce(level_index + 1, column, tile_y // 2, reduced)

    def paint_and_encode(index: int) -> tuple[np.ndarray, bytes]:
        tile_y, tile_x = divmod(index, levels[0].columns)
        tile = paint_tile(tile_x, tile_y)
        if tile.shape != (tile_size, tile_size, 3) or tile.dtype != np.uint8:
            raise ValueError(
                f"tile ({tile_x}, {tile_y}) has shape {tile.shape} "
                f"{tile.dtype}, not ({tile_size}, {tile_size}, 3) uint8"
            )
        return tile, encode(tile)

    ahead = _WorkAhead(paint_and_encode, levels[0].columns * levels[0].rows, workers)

    def level0_tiles() -> Iterator[bytes]:
        base = levels[0]
        for tile_y in range(base.rows):
            if tile_y and progress is not None:
                progress(tile_y, base.rows)
            for tile_x in range(base.columns):
                tile, encoded = ahead.result(tile_y * base.columns + tile_x)
                reduce(0, tile_x, tile_y, tile)
                yield encoded
        # tifffile asks for no item after the last tile, so the last row is
        # reported after the write.

    common = dict(
        dtype=np.uint8,
        tile=(tile_size, tile_size),
        photometric="rgb",
        resolutionunit="CENTIMETER",
    )
    if lossless:
        common["compression"] = "zlib"
    else:
        common.update(compression="jpeg", subsampling=JPEG_SUBSAMPLING)
    metadata = {"axes": "YXS", "Name": name}
    if description:
        metadata["Description"] = description
    if microns_per_pixel:
        metadata.update(
            PhysicalSizeX=microns_per_pixel,
            PhysicalSizeXUnit="µm",
            PhysicalSizeY=microns_per_pixel,
            PhysicalSizeYUnit="µm",
        )

    def resolution(level: int) -> dict:
        if not microns_per_pixel:
            return {}
        pixels_per_cm = 1e4 / (microns_per_pixel * 2**level)
        return {"resolution": (pixels_per_cm, pixels_per_cm)}

    try:
        with tifffile.TiffWriter(partial, bigtiff=True, ome=True) as tiff:
            tiff.write(
                level0_tiles(),
                shape=(height, width, 3),
                subifds=len(levels) - 1,
                metadata=metadata,
                software="Cervix Studio",
                **resolution(0),
                **common,
            )
            if progress is not None:
                progress(levels[0].rows, levels[0].rows)
            for index, level in enumerate(levels[1:], start=1):
                tiff.write(
                    spool.tiles(index),
                    shape=(level.height, level.width, 3),
                    subfiletype=1,
                    metadata=None,
                    **resolution(index),
                    **common,
                )
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise SlideWriteError(
            f"cannot write the slide: {error.strerror or error}",
            path,
            "check that the folder exists, is writable and has free space",
        ) from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        ahead.close()
        spool.close()
    log.info(
        "wrote %s: %dx%d, %d levels, %.1f MB",
        path,
        width,
        height,
        len(levels),
        path.stat().st_size / 1e6,
    )
    return levels
