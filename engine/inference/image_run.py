"""Analysing one image of any size: every model over its tiles, band by band, and
the cells, mask and Grad-CAM map streamed into the prediction store.

The image is read through its source, a few batches of tiles ahead of the
models. The model that outlines cells (Mask R-CNN, else the U-Net) leads;
after each of its batches the cells no later tile can touch are finished:
outlined, given the U-Net's nucleus, classified in batches, written. The
U-Net keeps level with the leader, and its mask leaves memory as strips of
rows once no cell above them is open. Memory holds a band of tiles, not
the image.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.annotations.cells import Cell
from engine.annotations.project import now_iso
from engine.images import ImageSource
from engine.inference.cells import CellClassifier, ClassifiedCell, predicted_cell
from engine.inference.cells_file import CellsFileWriter
from engine.inference.crops import crop_window
from engine.inference.events import Cancelled, TilesProgress
from engine.inference.merge import InstanceMerger, MergedCell, instances_of_tile
from engine.inference.rasters import BandCanvas, RasterStrips
from engine.inference.segmentation import TiledModelRun, UnetBand, unet_instances
from engine.inference.tiling import CLUSTER_IMAGE_MAX_SIDE
from engine.predictions import ImagePredictions, PredictedCell, PredictionStore
from engine.predictions.store import GRADCAM_SUFFIXES, MASK_SUFFIXES

log = logging.getLogger(__name__)


@dataclass
class ImageResult:
    """What was written for one image, and how much of it was held at once."""

    key: str
    cells: int
    cells_path: object
    mask_path: object = None
    gradcam_path: object = None
    tiles: int = 0
    seconds: float = 0.0
    class_counts: dict[str, int] = field(default_factory=dict)
    suspicious: list[tuple] = field(default_factory=list)  # (p, key, id, x, y, cls)
    most_open_cells: int = 0
    most_unet_rows: int = 0
    most_mask_strips: int = 0
    most_gradcam_strips: int = 0


def is_slide(source: ImageSource) -> bool:
    """Whether an image's rasters are stored as pyramids rather than PNGs."""
    return source.level_count > 1 or max(source.size) > CLUSTER_IMAGE_MAX_SIDE


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
            reader_threads=threads or 2,
        )
        if self.leader is None:
            margin = self.stage.margin
            self.annotated = sorted(
                self.annotated, key=lambda cell: crop_window(cell.bounds, margin).y0
            )
        self._open_writers(store, run)

    # -- output ----------------------------------------------------------------

    def _open_writers(self, store: PredictionStore, run: str) -> None:
        pyramidal = is_slide(self.source)
        self.store, self.run, self.pyramidal = store, run, pyramidal
        header = ImagePredictions(
            image_key=self.key,
            image_size=(self.width, self.height),
            models=self.pipeline.model_paths(),
            classes=self.pipeline.class_names(),
            created=now_iso(),
        )
        self.cells_writer = CellsFileWriter(store.cells_path(run, self.key), header)
        self.mask = self.gradcam = None
        mpp = self.source.microns_per_pixel
        if self.unet:
            self.mask = RasterStrips(
                (self.width, self.height),
                2,
                tiff_path=store.mask_path(run, self.key, True) if pyramidal else None,
                save_png=None
                if pyramidal
                else (lambda pixels: store.save_mask(run, self.key, pixels)),
                microns_per_pixel=mpp,
                name=f"U-Net mask of {self.key}",
            )
        if self.stage.gradcam is not None:
            raster = RasterStrips(
                (self.width, self.height),
                1,
                tiff_path=store.gradcam_path(run, self.key, True)
                if pyramidal
                else None,
                save_png=None
                if pyramidal
                else (lambda pixels: store.save_gradcam(run, self.key, pixels[..., 0])),
                microns_per_pixel=mpp,
                name=f"Grad-CAM of {self.key}",
            )
            self.gradcam = BandCanvas(raster)
        self.class_counts: dict[str, int] = {}
        self.suspicious: list[tuple] = []

    def _write(self, classified: ClassifiedCell) -> None:
        cell = classified.cell
        cell.id = self.cells_writer.count + 1
        self.cells_writer.add(cell)
        name = cell.predicted_class or "unclassified"
        self.class_counts[name] = self.class_counts.get(name, 0) + 1
        abnormal = self.pipeline.abnormal
        if abnormal and cell.probabilities:
            x_min, y_min = cell.cytoplasm.min(axis=0)
            x_max, y_max = cell.cytoplasm.max(axis=0)
            entry = (
                cell.abnormal_probability(abnormal),
                self.key,
                cell.id,
                float((x_min + x_max) / 2),
                float((y_min + y_max) / 2),
                cell.predicted_class,
            )
            top = self.pipeline.top
            if len(self.suspicious) < top:
                heapq.heappush(self.suspicious, entry)
            elif top:
                heapq.heappushpop(self.suspicious, entry)
        if self.gradcam is not None and classified.heatmap is not None:
            window = classified.window
            self.gradcam.paste(window.x0, window.y0, classified.heatmap)

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
                self.cells_writer.count + self.stage.pending,
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
                while not self.leader.done:
                    self._check_cancel()
                    if self.leader.step() == 0:
                        break
                    self._after_step(final=False)
                self._after_step(final=True)
            return self._finish()
        except BaseException:
            self._abort()
            raise
        finally:
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
            target = math.inf if final else self.unet_grid.working_y(frontier) + 3
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
            )
            if cell is not None:
                cells.append(cell)
        self.finished_cells = []
        self.stage.submit(cells)
        for classified in self.stage.ready(flush=final):
            self._write(classified)
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
            needed = (
                self.unet_grid.working_y(next_rows[0]) - 2 if next_rows else math.inf
            )
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
            last = min(grid.height, math.ceil((bottom - 0.5) * scale - 0.5) + 2)
            if not self.band.complete and self.band.ready_until < last:
                return
            self.mask.put(self._mask_strip(top, bottom))

    def _mask_strip(self, top: int, bottom: int) -> np.ndarray:
        grid, scale = self.unet_grid, self.unet_grid.scale
        if scale == 1.0:
            return np.ascontiguousarray(self.band.rows(top, bottom)[:, : self.width])
        first = max(0, math.floor((top + 0.5) * scale - 0.5) - 1)
        last = min(grid.height, math.ceil((bottom - 0.5) * scale - 0.5) + 2)
        rows = self.band.rows(first, last)
        matrix = np.float32(
            [
                [scale, 0, 0.5 * scale - 0.5],
                [0, scale, (top + 0.5) * scale - 0.5 - first],
            ]
        )
        return cv2.warpAffine(
            rows,
            matrix,
            (self.width, bottom - top),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
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
            for classified in self.stage.ready():
                self._write(classified)
            if self.gradcam is not None:
                following = start + batch
                limit = math.inf
                if following < len(self.annotated):
                    following_cell = self.annotated[following]
                    limit = crop_window(following_cell.bounds, self.stage.margin).y0
                pending = self.stage.pending_top()
                self.gradcam.flush(limit if pending is None else min(pending, limit))
            self._progress()
        for classified in self.stage.ready(flush=True):
            self._write(classified)
        self._progress()

    def _finish(self) -> ImageResult:
        mask_path = gradcam_path = None
        if self.mask is not None:
            self._write_mask_strips()
            mask_path = self.mask.finish()
            self._remove_other(mask_path, MASK_SUFFIXES)
        if self.gradcam is not None:
            gradcam_path = self.gradcam.finish()
            self._remove_other(gradcam_path, GRADCAM_SUFFIXES)
        cells_path = self.cells_writer.finish()
        return ImageResult(
            key=self.key,
            cells=self.cells_writer.count,
            cells_path=cells_path,
            mask_path=mask_path,
            gradcam_path=gradcam_path,
            tiles=self._tiles_done(),
            seconds=time.perf_counter() - self.started,
            class_counts=self.class_counts,
            suspicious=sorted(self.suspicious, reverse=True),
            most_open_cells=self.merger.most_open if self.merger else 0,
            most_unet_rows=self.band.most_rows_held if self.band else 0,
            most_mask_strips=self.mask.most_held if self.mask else 0,
            most_gradcam_strips=self.gradcam.most_held if self.gradcam else 0,
        )

    def _remove_other(self, written, suffixes) -> None:
        """A raster of the other kind left by an earlier run of the same name."""
        for suffix in suffixes:
            other = self.store.root / self.run / f"{self.key}{suffix}"
            if other != written:
                other.unlink(missing_ok=True)

    def _abort(self) -> None:
        self.cells_writer.abort()
        if self.mask is not None:
            self.mask.abort()
        if self.gradcam is not None:
            self.gradcam.raster.abort()
