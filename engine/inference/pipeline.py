"""The inference pipeline: any of the three models over images of any size, into a
prediction store, with progress events and a cancel token.

`InferencePipeline(classifier=..., unet=..., maskrcnn=...)` takes any subset of
the predictors. Mask R-CNN outlines cells (else the U-Net's connected pieces
do); the U-Net adds each cell's nucleus and the stored mask; the classifier
gives each cell its class probabilities, and, on request, Grad-CAM maps. With
the classifier alone, the cells already annotated on an image are classified.
`run(jobs, store, run_name)` analyses images one after another (see
`engine.inference.image_run` for one image) and returns a summary.
"""

from __future__ import annotations

import heapq
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.annotations.cells import Cell
from engine.annotations.project import atomic_write_json, now_iso
from engine.errors import CervixError
from engine.images import ImageSource, ImageSourceError, open_image
from engine.inference.cells import abnormal_classes
from engine.inference.events import (
    Cancelled,
    CancelToken,
    EventCallback,
    ImageDone,
    InferenceEvent,
    PipelineFinished,
    PipelineSummary,
    SuspiciousCell,
)
from engine.inference.gradcam import GradCam
from engine.inference.image_output import ImageResult
from engine.inference.image_run import ImageRun
from engine.inference.predictors import InferenceError
from engine.inference.tiling import TileGrid, model_scale
from engine.models.unet import SIZE_MULTIPLE
from engine.predictions import PredictionStore

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = {"classifier": 32, "unet": 8, "maskrcnn": 4}
DEFAULT_OVERLAP = 0.25  # of a tile's side
RUN_FILE = "run.json"


@dataclass
class ImageJob:
    """One image to analyse: its key in the store, its file, and (for a classifier
    on its own) the cells annotated on it."""

    key: str
    path: Path
    cells: list[Cell] | None = None


def run_name_for(predictors: Iterable, when: datetime | None = None) -> str:
    """A run's folder name from its checkpoints' names and the time."""
    names = [getattr(p, "name", "") or getattr(p, "task", "model") for p in predictors]
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    joined = "+".join(dict.fromkeys(name for name in names if name)) or "models"
    safe = re.sub(r"[^A-Za-z0-9_.+-]+", "-", joined).strip(".-") or "models"
    return f"{safe[:80]}-{stamp}"


class InferencePipeline:
    """Any subset of the three models, run over images into a prediction store."""

    def __init__(
        self,
        *,
        classifier=None,
        unet=None,
        maskrcnn=None,
        batch_size: int | None = None,
        gradcam: bool = False,
        overlap: float = DEFAULT_OVERLAP,
        scale: float | None = None,
        reader_threads: int | None = None,
        cancel: CancelToken | None = None,
        on_event: EventCallback | None = None,
        top: int = 10,
    ):
        if classifier is None and unet is None and maskrcnn is None:
            raise InferenceError(
                "no model was given", hint="give a classifier, U-Net or Mask R-CNN"
            )
        if gradcam and classifier is None:
            raise InferenceError(
                "Grad-CAM maps need a classifier", hint="add a classifier model"
            )
        if not 0 <= overlap <= 0.5:
            raise InferenceError(f"the overlap must be 0 to 0.5, not {overlap}")
        self.classifier, self.unet, self.maskrcnn = classifier, unet, maskrcnn
        self.batch_size = batch_size
        self.gradcam = gradcam
        self.overlap = overlap
        self.scale = scale
        self.reader_threads = reader_threads
        self.cancel = cancel
        self.on_event = on_event
        self.top = max(0, top)
        self.abnormal = abnormal_classes(classifier.card) if classifier else set()
        self._gradcam = None

    # -- what the image runs ask ---------------------------------------------------

    @property
    def predictors(self) -> list:
        models = (self.maskrcnn, self.unet, self.classifier)
        return [p for p in models if p is not None]

    def emit(self, event: InferenceEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def batch_size_for(self, predictor) -> int:
        """Tiles (or crops) per batch: as asked, else the predictor's own."""
        if self.batch_size:
            return self.batch_size
        if predictor is None:
            return DEFAULT_BATCH_SIZE["classifier"]
        return getattr(predictor, "batch_size", DEFAULT_BATCH_SIZE[predictor.task])

    def grid_for(self, predictor, source: ImageSource) -> TileGrid:
        """The tile grid of a segmentation model on an image, at the model's scale."""
        card = predictor.card
        tile = int(card.input_size)
        if predictor.task == "unet":
            tile = -(-tile // SIZE_MULTIPLE) * SIZE_MULTIPLE
        overlap = int(round(tile * self.overlap))
        scale = model_scale(card, source, self.scale)
        return TileGrid(source.size, scale, tile, overlap)

    def gradcam_maker(self) -> GradCam | None:
        if not self.gradcam:
            return None
        if self._gradcam is None:
            self._gradcam = GradCam(self.classifier)
        return self._gradcam

    def model_paths(self) -> dict[str, str]:
        return {
            p.task: str(p.folder) if getattr(p, "folder", None) else p.card.arch
            for p in self.predictors
        }

    def class_names(self) -> list[str]:
        if self.classifier is not None:
            return list(self.classifier.card.classes)
        if self.maskrcnn is not None:
            return list(self.maskrcnn.card.classes)
        return []

    # -- running -------------------------------------------------------------------

    def analyse(
        self,
        source: ImageSource,
        key: str,
        store: PredictionStore,
        run: str,
        *,
        cells: list[Cell] | None = None,
        index: int = 0,
        count: int = 1,
    ) -> ImageResult:
        """Analyse one opened image and write its results under `run`.

        Raises `Cancelled` when the cancel token is set; nothing of this image
        is left in the store then.
        """
        image_run = ImageRun(self, source, key, store, run, cells, index, count)
        result = image_run.execute()
        log.info(
            "%s: %d cells from %d tiles in %.1f s",
            key,
            result.cells,
            result.tiles,
            result.seconds,
        )
        self.emit(ImageDone(key, result.cells, index, count, result.seconds))
        return result

    def run(
        self, jobs: Iterable[ImageJob], store: PredictionStore, run: str | None = None
    ) -> PipelineSummary:
        """Analyse every image; an image that cannot be read is skipped and named
        in the summary. Stops between batches when the cancel token is set."""
        jobs = list(jobs)
        run = run or run_name_for(self.predictors)
        started = time.perf_counter()
        counts: Counter[str] = Counter()
        suspicious: list[tuple] = []
        images = cells = tiles = 0
        skipped: list[str] = []
        cancelled = False
        for index, job in enumerate(jobs):
            try:
                with open_image(job.path) as source:
                    result = self.analyse(
                        source,
                        job.key,
                        store,
                        run,
                        cells=job.cells,
                        index=index,
                        count=len(jobs),
                    )
            except Cancelled:
                cancelled = True
                log.info("Inference cancelled during %s", job.key)
                break
            except ImageSourceError as error:
                if len(jobs) == 1:
                    raise
                log.warning("Skipped %s: %s", job.key, error.user_message())
                skipped.append(f"{job.key}: {error.user_message()}")
                continue
            images += 1
            cells += result.cells
            tiles += result.tiles
            counts.update(result.class_counts)
            for entry in result.suspicious:
                heapq.heappush(suspicious, entry)
                if len(suspicious) > self.top:
                    heapq.heappop(suspicious)
        summary = PipelineSummary(
            run=run,
            store=str(store.root),
            images=images,
            cells=cells,
            class_counts=dict(counts.most_common()),
            suspicious=tuple(
                SuspiciousCell(key, cell_id, x, y, name, probability)
                for probability, key, cell_id, x, y, name in sorted(
                    suspicious, reverse=True
                )
            ),
            abnormal_classes=tuple(sorted(self.abnormal)),
            tiles=tiles,
            seconds=time.perf_counter() - started,
            cancelled=cancelled,
            models=self.model_paths(),
            skipped=tuple(skipped),
        )
        if images:
            self._write_run_file(store, run, summary)
        self.emit(PipelineFinished(summary))
        return summary

    def _write_run_file(
        self, store: PredictionStore, run: str, summary: PipelineSummary
    ) -> None:
        """`run.json` beside the images' files: the models, settings and summary."""
        record = {
            "created": now_iso(),
            "models": self.model_paths(),
            "classes": self.class_names(),
            "settings": {
                "batch_size": self.batch_size,
                "overlap": self.overlap,
                "scale": self.scale,
                "gradcam": self.gradcam,
            },
            "summary": summary.to_json(),
        }
        try:
            atomic_write_json(store.root / run / RUN_FILE, record)
        except CervixError as error:
            log.warning("Could not write the run record: %s", error)


def read_run_file(store: PredictionStore, run: str) -> dict | None:
    """The record of a run written by `InferencePipeline.run`, if there is one."""
    path = store.root / run / RUN_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("Unreadable run record %s", path)
        return None
