"""Everything one image's analysis writes into the prediction store: its cells
file, its U-Net mask and its Grad-CAM map, each appearing only when complete;
and the counts and most suspicious cells the run's summary is made of."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from pathlib import Path

from engine.annotations.project import now_iso
from engine.images import ImageSource
from engine.inference.cells import ClassifiedCell
from engine.inference.cells_file import CellsFileWriter
from engine.inference.rasters import BandCanvas, RasterStrips
from engine.inference.tiling import CLUSTER_IMAGE_MAX_SIDE, TileGrid
from engine.predictions import ImagePredictions, PredictionStore
from engine.predictions.store import GRADCAM_SUFFIXES, MASK_SUFFIXES

GRADCAM_SLIDE_SCALE = 0.25  # a slide's Grad-CAM map, per level-0 pixel


def is_slide(source: ImageSource) -> bool:
    """Whether an image's rasters are stored as pyramids rather than PNGs."""
    return source.level_count > 1 or max(source.size) > CLUSTER_IMAGE_MAX_SIDE


@dataclass
class ImageResult:
    """What was written for one image, and how much of it was held at once."""

    key: str
    cells: int
    cells_path: Path
    mask_path: Path | None = None
    gradcam_path: Path | None = None
    tiles: int = 0
    seconds: float = 0.0
    class_counts: dict[str, int] = field(default_factory=dict)
    suspicious: list[tuple] = field(default_factory=list)  # (p, key, id, x, y, cls)
    most_open_cells: int = 0
    most_unet_rows: int = 0
    most_mask_strips: int = 0
    most_gradcam_strips: int = 0


class ImageOutput:
    """The files of one image in a run, written as the cells come."""

    def __init__(
        self,
        pipeline,
        source: ImageSource,
        key: str,
        store: PredictionStore,
        run: str,
        *,
        mask: bool,
        gradcam: bool,
        mask_grid: TileGrid | None = None,
    ):
        self.pipeline = pipeline
        self.key, self.store, self.run = key, store, run
        width, height = source.size
        pyramidal = is_slide(source)
        header = ImagePredictions(
            image_key=key,
            image_size=(width, height),
            models=pipeline.model_paths(),
            classes=pipeline.class_names(),
            created=now_iso(),
        )
        self.cells = CellsFileWriter(store.cells_path(run, key), header)
        self.class_counts: dict[str, int] = {}
        self.suspicious: list[tuple] = []
        self.mask = self.gradcam = None
        self.mask_scale = 1.0  # the mask's pixels per level-0 pixel
        try:
            self._open_rasters(source, pyramidal, mask, gradcam, mask_grid)
        except BaseException:
            self.abort()
            raise

    def _open_rasters(
        self,
        source: ImageSource,
        pyramidal: bool,
        mask: bool,
        gradcam: bool,
        mask_grid: TileGrid | None,
    ) -> None:
        key, store, run = self.key, self.store, self.run
        width, height = source.size
        microns = source.microns_per_pixel
        if mask:
            # A slide's mask stays at the U-Net's own resolution when that is
            # coarser than the slide: it holds no more detail stretched, and its
            # strips then cost the same few megabytes however wide the slide is.
            mask_size, mask_microns = (width, height), microns
            if pyramidal and mask_grid is not None and mask_grid.scale < 1.0:
                mask_size = (mask_grid.width, mask_grid.height)
                mask_microns = None if microns is None else microns / mask_grid.scale
                self.mask_scale = mask_grid.scale
            self.mask = RasterStrips(
                mask_size,
                2,
                tiff_path=store.mask_path(run, key, True) if pyramidal else None,
                save_png=None
                if pyramidal
                else (lambda pixels: store.save_mask(run, key, pixels)),
                name=f"U-Net mask of {key}",
                microns_per_pixel=mask_microns,
            )
        if gradcam:
            # The map is no sharper than the classifier's last feature grid: on
            # a slide, a quarter of level 0 keeps more than it has, in a
            # sixteenth of the pixels.
            scale = GRADCAM_SLIDE_SCALE if pyramidal else 1.0
            raster = RasterStrips(
                (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))),
                1,
                tiff_path=store.gradcam_path(run, key, True) if pyramidal else None,
                save_png=None
                if pyramidal
                else (lambda pixels: store.save_gradcam(run, key, pixels[..., 0])),
                name=f"Grad-CAM of {key}",
                microns_per_pixel=None if microns is None else microns / scale,
            )
            self.gradcam = BandCanvas(raster, scale)

    @property
    def count(self) -> int:
        return self.cells.count

    def write(self, classified: ClassifiedCell) -> None:
        """Write a cell (numbered from 1), count it, and paste its map."""
        cell = classified.cell
        cell.id = self.cells.count + 1
        self.cells.add(cell)
        name = cell.predicted_class or "unclassified"
        self.class_counts[name] = self.class_counts.get(name, 0) + 1
        abnormal, top = self.pipeline.abnormal, self.pipeline.top
        if abnormal and cell.probabilities and top:
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
            if len(self.suspicious) < top:
                heapq.heappush(self.suspicious, entry)
            else:
                heapq.heappushpop(self.suspicious, entry)
        if self.gradcam is not None and classified.heatmap is not None:
            window = classified.window
            self.gradcam.paste(window.x0, window.y0, classified.heatmap)

    def finish(self) -> tuple[Path, Path | None, Path | None]:
        """Complete the rasters, then the cells file: a cells file in the store
        means its image's rasters are there too."""
        mask_path = gradcam_path = None
        if self.mask is not None:
            mask_path = self.mask.finish()
            self._remove_other(mask_path, MASK_SUFFIXES)
        if self.gradcam is not None:
            gradcam_path = self.gradcam.finish()
            self._remove_other(gradcam_path, GRADCAM_SUFFIXES)
        return self.cells.finish(), mask_path, gradcam_path

    def _remove_other(self, written: Path, suffixes) -> None:
        """A raster of the other kind left by an earlier run of the same name."""
        for suffix in suffixes:
            other = self.store.root / self.run / f"{self.key}{suffix}"
            if other != written:
                other.unlink(missing_ok=True)

    def abort(self) -> None:
        """Remove every file not yet complete; earlier files stay as they were."""
        self.cells.abort()
        if self.mask is not None:
            self.mask.abort()
        if self.gradcam is not None:
            self.gradcam.raster.abort()
