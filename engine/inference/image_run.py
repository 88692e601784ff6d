"""Analysing one image of any size: every model over its tiles, band by band, and
the cells, mask and Grad-CAM map streamed into the prediction store.

The image is read through its source by reader threads, a few batches of
tiles ahead of the models. The model that outlines cells (Mask R-CNN, else the
U-Net) leads; after each of its batches the cells no later tile can touch are
finished: outlined, given a nucleus (the U-Net's, else the cell's darkest
stain), classified in batches, written. The U-Net keeps level with the
leader, and its mask leaves memory as strips of rows once no cell above them
is open. Memory holds a band of tiles, not the image.
"""

from __future__ import annotations

import logging
import math
import time

import cv2
import numpy as np

from engine.annotations.cells import Cell
from engine.images import ImageSource
from engine.inference.cells import CellClassifier, predicted_cell
from engine.inference.crops import crop_window
from engine.inference.events import Cancelled, CellsFound, TilesProgress
from engine.inference.heap import HeapTrimmer
from engine.inference.image_output import ImageOutput, ImageResult
from engine.inference.merge import InstanceMerger, MergedCell, instances_of_tile
from engine.inference.prefetch import reader_threads
from engine.inference.segmentation import TiledModelRun, UnetBand, unet_instances
from engine.inference.tiling import tile_reader
from engine.predictions import PredictedCell

log = logging.getLogger(__name__)


class ImageRun:
    """The state of one image's analysis; `execute()` runs it once."""

    def __init__(
        self,
        pipeline,
        source: ImageSource,
        key: str,
        store,
        run: str,
        annotated: list[Cell] | None,
        index: int,
        count: int,
    ):
        self.pipeline = pipeline
        self.source = source
        self.key = key
        self.index, self.count = index, count
        self.width, self.height = source.size
        self.started = time.perf_counter()
        self.unet, self.maskrcnn = pipeline.unet, pipeline.maskrcnn
        self.unet_grid = pipeline.grid_for(self.unet, source) if self.unet else None
        self.mrcnn_grid = (
            pipeline.grid_for(self.maskrcnn, source) if self.maskrcnn else None
        )
        self.leader_grid = self.mrcnn_grid or self.unet_grid
        self.merger = InstanceMerger(self.leader_grid) if self.leader_grid else None
        self.band = UnetBand(self.unet_grid) if self.unet else None
        self.finished_cells: list[MergedCell] = []
        self.annotated = annotated or []
        self.unet_run = self.mrcnn_run = None
        self.reader = tile_reader(
            source,
            [grid.scale for grid in (self.unet_grid, self.mrcnn_grid) if grid],
            crops=pipeline.classifier is not None,
        )
        threads = pipeline.reader_threads
        if self.unet:
            self.unet_run = TiledModelRun(
                self.unet_grid,
                source,
                self.unet.predict_tiles,
                pipeline.batch_size_for(self.unet),
                self._unet_tile,
                self._unet_row,
                reader_threads=threads,
                reader=self.reader,
            )
        if self.maskrcnn:
            self.mrcnn_run = TiledModelRun(
                self.mrcnn_grid,
                source,
                self.maskrcnn.predict_tiles,
                pipeline.batch_size_for(self.maskrcnn),
                self._mrcnn_tile,
                self._mrcnn_row,
                reader_threads=threads,
                reader=self.reader,
            )
        self.leader = self.mrcnn_run or self.unet_run
        self.total = sum(len(g) for g in (self.unet_grid, self.mrcnn_grid) if g)
        if self.leader is None:
            self.total = len(self.annotated)
        self.stage = CellClassifier(
            source,
            pipeline.classifier,
            gradcam=pipeline.gradcam_maker(),
            batch_size=pipeline.batch_size_for(pipeline.classifier),
            reader_threads=threads or reader_threads(),
            reader=self.reader,
        )
        if self.leader is None:
            margin = self.stage.margin
            self.annotated = sorted(
                self.annotated, key=lambda cell: crop_window(cell.bounds, margin).y0
            )
        try:
            self.output = ImageOutput(
                pipeline,
                source,
                key,
                store,
                run,
                mask=self.unet is not None,
                gradcam=self.stage.gradcam is not None,
                mask_grid=self.unet_grid,
            )
        except BaseException:
            self._close()
            raise
        self.mask, self.gradcam = self.output.mask, self.output.gradcam
        # The mask's rows are the U-Net's own (a slide seen coarser than level 0)
        # or level-0 rows resized from them.
        self.mask_in_working_rows = self.mask is not None and self.output.mask_scale < 1

    # -- the models' callbacks -------------------------------------------------

    def _unet_tile(self, tile, probabilities) -> None:
        self.band.add_tile(tile, probabilities)
        if self.maskrcnn is None:
            threshold = getattr(self.unet, "threshold", 0.5)
            self.merger.add(
                unet_instances(tile, probabilities, self.unet_grid, threshold)
            )

    def _unet_row(self, row: int) -> None:
        self.band.row_done(row)
        if self.maskrcnn is None:
            self.finished_cells += self.merger.finish_row(row)

    def _mrcnn_tile(self, tile, instances) -> None:
        self.merger.add(
            instances_of_tile(
                tile,
                instances.masks,
                instances.scores,
                instances.labels,
                self.mrcnn_grid,
            )
        )

    def _mrcnn_row(self, row: int) -> None:
        self.finished_cells += self.merger.finish_row(row)

    # -- running -----------------------------------------------------------------

    def _check_cancel(self) -> None:
        cancel = self.pipeline.cancel
        if cancel is not None and cancel.cancelled:
            raise Cancelled()

    def _tiles_done(self) -> int:
        if self.leader is None:
            return self.stage.crops_done
        return sum(r.tiles_done for r in (self.unet_run, self.mrcnn_run) if r)

    def _progress(self) -> None:
        self.pipeline.emit(
            TilesProgress(
                self._tiles_done(),
                self.total,
                self.output.count + self.stage.pending,
                self.key,
                self.index,
                self.count,
            )
        )

    def execute(self) -> ImageResult:
        try:
            if self.leader is None:
                self._classify_annotated()
            else:
                heap = HeapTrimmer()
                while not self.leader.done:
                    self._check_cancel()
                    if self.leader.step() == 0:
                        break
                    self._after_step(final=False)
                    heap.maybe_trim()
                self._after_step(final=True)
            return self._finish()
        except BaseException:
            self.output.abort()
            raise
        finally:
            self._close()

    def _close(self) -> None:
        """Stop the reader threads."""
        for model_run in (self.unet_run, self.mrcnn_run):
            if model_run is not None:
                model_run.close()
        self.stage.close()

    def _cell_frontier(self) -> float:
        """The level-0 row above which no cell is still open or still to come."""
        if self.leader.done:
            return math.inf
        grid = self.leader_grid
        top = grid.row_top(self.leader.rows_done)
        open_top = self.merger.open_top()
        if open_top is not None:
            top = min(top, open_top)
        return grid.level0_y(top)

    def _after_step(self, final: bool) -> None:
        frontier = self._cell_frontier()
        if self.unet_run is not None and self.unet_run is not self.leader:
            # The U-Net must reach the bottom of every cell finished so far.
            grid = self.leader_grid
            reach = grid.level0_y(grid.row_top(self.leader.rows_done))
            target = math.inf if final else self.unet_grid.working_y(reach) + 3
            while not self.unet_run.done and self.band.ready_until < target:
                self._check_cancel()
                self.unet_run.step()
                self._progress()
        cells = []
        for merged in self.finished_cells:
            cell = predicted_cell(
                merged,
                self.leader_grid,
                unet=self.band,
                label_names=getattr(self.maskrcnn, "classes", None),
                source="maskrcnn" if self.maskrcnn else "unet",
                image=self.source,
                reader=self.reader,
            )
            if cell is not None:
                cells.append(cell)
        self.finished_cells = []
        self.stage.submit(cells)
        # A batch of crops stays with the readers while the models go on.
        ahead = self.stage.batch_size
        self._write(self.stage.ready(flush=final, ahead=ahead))
        self._write_mask_strips()
        if self.gradcam is not None:
            reach = self._gradcam_reach()
            pending = self.stage.pending_top()
            limit = (
                frontier - reach if pending is None else min(pending, frontier - reach)
            )
            self.gradcam.flush(limit)
        if self.band is not None:
            next_rows = self.mask.next_rows()
            if next_rows is None:
                needed = math.inf
            elif self.mask_in_working_rows:
                needed = next_rows[0]
            else:
                needed = self.unet_grid.working_y(next_rows[0]) - 2
            if frontier < math.inf:
                needed = min(needed, self.unet_grid.working_y(frontier) - 2)
            self.band.release_above(
                self.unet_grid.height if math.isinf(needed) else int(max(0, needed))
            )
        self._progress()

    def _gradcam_reach(self) -> float:
        """How far above a cell's box its crop's square may reach, in level-0 rows,
        for the largest cell a tile row can hold."""
        grid = self.leader_grid
        margin = self.stage.margin
        return (0.5 + margin) * 2 * grid.tile_size / grid.scale

    def _write_mask_strips(self) -> None:
        if self.mask is None:
            return
        grid, scale = self.unet_grid, self.unet_grid.scale
        while (rows := self.mask.next_rows()) is not None:
            top, bottom = rows
            if self.mask_in_working_rows:
                last = bottom
            else:
                last = min(grid.height, math.ceil((bottom - 0.5) * scale - 0.5) + 2)
            if not self.band.complete and self.band.ready_until < last:
                return
            self.mask.put(self._mask_strip(top, bottom))

    def _mask_strip(self, top: int, bottom: int) -> np.ndarray:
        """Rows [top, bottom) of the mask: the U-Net's own rows, or level-0 rows
        resized from them (a working row y sits at level-0 row
        (y + 0.5) / scale - 0.5)."""
        grid, scale = self.unet_grid, self.unet_grid.scale
        if self.mask_in_working_rows:
            return np.ascontiguousarray(self.band.rows(top, bottom)[:, : grid.width])
        if scale == 1.0:
            return np.ascontiguousarray(self.band.rows(top, bottom)[:, : self.width])
        first = max(0, math.floor((top + 0.5) * scale - 0.5) - 1)
        last = min(grid.height, math.ceil((bottom - 0.5) * scale - 0.5) + 2)
        rows = self.band.rows(first, last)
        # cv2.resize maps output pixel centres exactly by 1 / fx when given fx
        # alone, so its rows line up with level 0 to within half a pixel.
        factor = 1.0 / scale
        resized = cv2.resize(
            rows, (0, 0), fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR
        )
        offset = round(top - first * factor)
        strip = resized[offset : offset + bottom - top, : self.width]
        missing_rows = bottom - top - strip.shape[0]
        missing_columns = self.width - strip.shape[1]
        if missing_rows > 0 or missing_columns > 0:
            pad = ((0, max(0, missing_rows)), (0, max(0, missing_columns)), (0, 0))
            strip = np.pad(strip, pad, mode="edge")
        return np.ascontiguousarray(strip)

    def _write(self, classified_cells) -> None:
        """Write finished cells, then say which, so a window can draw them now."""
        written = []
        for classified in classified_cells:
            self.output.write(classified)
            written.append(classified.cell)
        if written:
            self.pipeline.emit(
                CellsFound(self.key, tuple(written), self.index, self.count)
            )

    def _classify_annotated(self) -> None:
        batch = max(1, self.stage.batch_size)
        for start in range(0, len(self.annotated), batch):
            self._check_cancel()
            chunk = self.annotated[start : start + batch]
            self.stage.submit(
                [
                    PredictedCell(
                        id=0,
                        cytoplasm=c.cytoplasm,
                        nucleus=c.nucleus,
                        source="annotation",
                    )
                    for c in chunk
                ]
            )
            # Two batches stay with the readers while this one is classified.
            self._write(self.stage.ready(ahead=2 * batch))
            if self.gradcam is not None:
                following = start + batch
                limit = math.inf
                if following < len(self.annotated):
                    following_cell = self.annotated[following]
                    limit = crop_window(following_cell.bounds, self.stage.margin).y0
                pending = self.stage.pending_top()
                self.gradcam.flush(limit if pending is None else min(pending, limit))
            self._progress()
        self._write(self.stage.ready(flush=True))
        self._progress()

    def _finish(self) -> ImageResult:
        if self.mask is not None:
            self._write_mask_strips()
        cells_path, mask_path, gradcam_path = self.output.finish()
        return ImageResult(
            key=self.key,
            cells=self.output.count,
            cells_path=cells_path,
            mask_path=mask_path,
            gradcam_path=gradcam_path,
            tiles=self._tiles_done(),
            seconds=time.perf_counter() - self.started,
            class_counts=self.output.class_counts,
            suspicious=sorted(self.output.suspicious, reverse=True),
            most_open_cells=self.merger.most_open if self.merger else 0,
            most_unet_rows=self.band.most_rows_held if self.band else 0,
            most_mask_strips=self.mask.most_held if self.mask else 0,
            most_gradcam_strips=self.gradcam.most_held if self.gradcam else 0,
        )
