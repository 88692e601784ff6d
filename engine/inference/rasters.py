"""Image-sized model output (the U-Net mask, Grad-CAM maps) written strip by strip.

A slide's raster goes into a pyramidal, losslessly compressed OME-TIFF while
the models still run: the pipeline hands over strips of level-0 rows from the
top, and a writer thread turns them into tiles and pyramid levels, holding
only a few strips. A small image's raster is kept whole and saved as a PNG at
the end. Either way the file appears only when complete.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from engine.images.pyramid_writer import SlideWriteError, write_pyramidal_ome_tiff
from engine.inference.events import Cancelled

log = logging.getLogger(__name__)

STRIP_HEIGHT = 256  # level-0 rows per strip: also the TIFF's tile side
HELD_STRIPS = 3  # strips handed over but not yet written, at most


class RasterStrips:
    """A raster of `channels` uint8 channels (stored as R, G, B), filled from the
    top in strips of `strip_height` rows."""

    def __init__(
        self,
        size: tuple[int, int],
        channels: int,
        *,
        tiff_path: Path | None = None,
        save_png: Callable[[np.ndarray], Path] | None = None,
        strip_height: int = STRIP_HEIGHT,
        microns_per_pixel: float | None = None,
        name: str = "mask",
    ):
        if (tiff_path is None) == (save_png is None):
            raise ValueError("give either a TIFF path or a PNG saver")
        self.width, self.height = (int(side) for side in size)
        self.channels = channels
        self.strip_height = strip_height
        self.rows_done = 0
        self.tiff_path = tiff_path
        self._save_png = save_png
        self._whole = None
        self._strips: dict[int, np.ndarray] = {}
        self._taken: dict[int, int] = {}
        self._condition = threading.Condition()
        self._aborted = False
        self._failure: BaseException | None = None
        self._thread = None
        self.most_held = 0  # the largest number of strips waiting at once
        if tiff_path is None:
            self._whole = np.zeros((self.height, self.width, channels), np.uint8)
            return
        tiff_path.parent.mkdir(parents=True, exist_ok=True)
        # The writer renames its file when the last tile is in; the image's
        # other files may still fail or be cancelled, so it is renamed again
        # into place only at `finish()`.
        self._written = tiff_path.with_name(f".{tiff_path.name}.done")
        self._columns = -(-self.width // strip_height)
        self._thread = threading.Thread(
            target=self._write,
            args=(self._written, microns_per_pixel, name),
            name=f"raster-writer-{tiff_path.name}",
            daemon=True,
        )
        self._thread.start()

    @property
    def pyramidal(self) -> bool:
        return self.tiff_path is not None

    def next_rows(self) -> tuple[int, int] | None:
        """The level-0 rows [top, bottom) of the next strip; None when all are in."""
        if self.rows_done >= self.height:
            return None
        return self.rows_done, min(self.rows_done + self.strip_height, self.height)

    def put(self, strip: np.ndarray) -> None:
        """Hand over the next strip: (rows, width, channels) uint8, rows as
        `next_rows` says. Waits while the writer is behind."""
        top, bottom = self.next_rows()
        if strip.shape != (bottom - top, self.width, self.channels):
            raise ValueError(
                f"strip of shape {strip.shape}, expected "
                f"{(bottom - top, self.width, self.channels)}"
            )
        if self._whole is not None:
            self._whole[top:bottom] = strip
            self.rows_done = bottom
            return
        index = top // self.strip_height
        with self._condition:
            while (
                len(self._strips) >= HELD_STRIPS
                and self._failure is None
                and not self._aborted
            ):
                self._condition.wait(0.5)
            self._raise_failure()
            self._strips[index] = strip
            self._taken[index] = 0
            self.most_held = max(self.most_held, len(self._strips))
            self._condition.notify_all()
        self.rows_done = bottom

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _paint_tile(self, tile_x: int, tile_y: int) -> np.ndarray:
        """Called by the writer's threads: the tile, once its strip is in."""
        size = self.strip_height
        with self._condition:
            while tile_y not in self._strips:
                if self._aborted:
                    raise Cancelled()
                self._condition.wait(0.5)
            strip = self._strips[tile_y]
        tile = np.zeros((size, size, 3), np.uint8)
        part = strip[:, tile_x * size : (tile_x + 1) * size]
        tile[: part.shape[0], : part.shape[1], : self.channels] = part
        with self._condition:
            self._taken[tile_y] += 1
            if self._taken[tile_y] == self._columns:
                del self._strips[tile_y], self._taken[tile_y]
                self._condition.notify_all()
        return tile

    def _write(self, path: Path, microns_per_pixel: float | None, name: str) -> None:
        try:
            write_pyramidal_ome_tiff(
                path,
                (self.width, self.height),
                self._paint_tile,
                tile_size=self.strip_height,
                microns_per_pixel=microns_per_pixel,
                name=name,
                description="Cervix Studio model output; not for diagnosis",
                workers=2,
                compression="zlib",
            )
        except Cancelled:
            log.debug("Writing %s was cancelled", path)
        except BaseException as error:  # handed to the pipeline's thread
            with self._condition:
                self._failure = error
                self._condition.notify_all()

    def finish(self) -> Path:
        """Wait for the file to be complete (the rest of the rows are zero)."""
        while self.next_rows() is not None:
            top, bottom = self.next_rows()
            self.put(np.zeros((bottom - top, self.width, self.channels), np.uint8))
        if self._whole is not None:
            path = self._save_png(self._whole)
            self._whole = None
            return path
        self._thread.join()
        self._raise_failure()
        try:
            os.replace(self._written, self.tiff_path)
        except OSError as error:
            self._written.unlink(missing_ok=True)
            raise SlideWriteError(
                f"cannot be written: {error.strerror or error}",
                self.tiff_path,
                "check that the folder is writable and the disk is not full",
            ) from error
        return self.tiff_path

    def abort(self) -> None:
        """Stop writing; no file is left behind."""
        self._whole = None
        if self._thread is None:
            return
        with self._condition:
            self._aborted = True
            self._condition.notify_all()
        self._thread.join()
        self._written.unlink(missing_ok=True)


class BandCanvas:
    """Maps pasted onto an image-sized canvas, maximum where they overlap, written
    strip by strip once nothing more can be pasted above a row. The canvas may
    be `scale` times the image's size; maps are pasted in level-0 pixels."""

    def __init__(self, raster: RasterStrips, scale: float = 1.0):
        self.raster = raster
        self.scale = float(scale)
        self._strips: dict[int, np.ndarray] = {}
        self.most_held = 0

    def paste(self, x0: int, y0: int, values: np.ndarray) -> None:
        """Paste (h, w) uint8 values with their top-left at level-0 (x0, y0)."""
        if self.scale != 1.0:
            height, width = values.shape
            right = round((x0 + width) * self.scale)
            bottom = round((y0 + height) * self.scale)
            x0, y0 = round(x0 * self.scale), round(y0 * self.scale)
            size = (max(1, right - x0), max(1, bottom - y0))
            values = cv2.resize(values, size, interpolation=cv2.INTER_AREA)
        height, width = values.shape
        size = self.raster.strip_height
        left, right = max(x0, 0), min(x0 + width, self.raster.width)
        top = max(y0, self.raster.rows_done)
        bottom = min(y0 + height, self.raster.height)
        if left >= right or top >= bottom:
            return
        for index in range(top // size, (bottom - 1) // size + 1):
            strip_top = index * size
            strip = self._strips.get(index)
            if strip is None:
                rows = min(size, self.raster.height - strip_top)
                strip = np.zeros((rows, self.raster.width), np.uint8)
                self._strips[index] = strip
            a, b = max(top, strip_top), min(bottom, strip_top + len(strip))
            target = strip[a - strip_top : b - strip_top, left:right]
            source = values[a - y0 : b - y0, left - x0 : right - x0]
            np.maximum(target, source, out=target)
        self.most_held = max(self.most_held, len(self._strips))

    def flush(self, frontier: float) -> None:
        """Write every strip that ends above level-0 row `frontier`."""
        frontier *= self.scale
        while (rows := self.raster.next_rows()) is not None and rows[1] <= frontier:
            index = rows[0] // self.raster.strip_height
            strip = self._strips.pop(index, None)
            if strip is None:
                strip = np.zeros((rows[1] - rows[0], self.raster.width), np.uint8)
            self.raster.put(strip[..., None])

    def finish(self) -> Path:
        self.flush(float("inf"))
        return self.raster.finish()
