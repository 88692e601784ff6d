"""A single image or slide opened on its own, outside a dataset: its record, and the
cells stored beside it as QuPath GeoJSON (`NAME.cells.geojson`, as
`cervix synth-slide` writes them), read as annotations to show."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from engine.annotations import Cell, ImageKind, ImageRecord, Origin
from engine.errors import CervixError
from engine.images.opener import open_image
from engine.images.synth_slide import cells_path_for

log = logging.getLogger(__name__)

UNCLASSIFIED = "unclassified"


class SlideCellsError(CervixError):
    """A cells file beside an image that cannot be read."""


def _ring(geometry) -> np.ndarray | None:
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        return None
    rings = geometry.get("coordinates") or []
    if not rings or len(rings[0]) < 3:
        return None
    ring = np.asarray(rings[0], dtype=np.float64)[:, :2]
    if np.array_equal(ring[0], ring[-1]):
        ring = ring[:-1]  # GeoJSON repeats the first vertex at the end
    return ring


def _features(text: str) -> list:
    """The features of a FeatureCollection, decoded one at a time.

    json.loads of a whole slide's cells (tens of megabytes) holds the GIL for
    seconds, which would freeze the window while a worker reads them; one
    feature at a time lets the GUI thread in between.
    """
    start = text.find('"features"')
    bracket = text.find("[", start) if start >= 0 else -1
    if bracket < 0:
        document = json.loads(text)
        if isinstance(document, dict):
            return document.get("features") or [document]
        return document if isinstance(document, list) else []
    decoder = json.JSONDecoder()
    features = []
    position = bracket + 1
    length = len(text)
    while True:
        while position < length and text[position] in " \t\r\n,":
            position += 1
        if position >= length:
            raise json.JSONDecodeError("the feature list is not closed", text, position)
        if text[position] == "]":
            return features
        feature, position = decoder.raw_decode(text, position)
        features.append(feature)


def read_cells_geojson(path: Path) -> list[Cell]:
    """The cell objects of a QuPath GeoJSON file, numbered from 1 in file order.

    Features that are not polygons are skipped (and counted in the log).
    """
    try:
        features = _features(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise SlideCellsError(f"cannot be read: {error.strerror}", path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SlideCellsError(
            f"is not a GeoJSON file ({error})", path, "export the cells again"
        ) from None
    cells, skipped = [], 0
    for feature in features:
        properties = (feature or {}).get("properties") or {}
        cytoplasm = _ring((feature or {}).get("geometry"))
        if cytoplasm is None:
            skipped += 1
            continue
        classification = properties.get("classification") or {}
        class_name = (
            classification.get("name")
            if isinstance(classification, dict)
            else str(classification)
        ) or UNCLASSIFIED
        cells.append(
            Cell(
                index=len(cells) + 1,
                cytoplasm=cytoplasm,
                # QuPath writes the nucleus beside the geometry; some writers
                # put it among the properties.
                nucleus=_ring(
                    feature.get("nucleusGeometry") or properties.get("nucleusGeometry")
                ),
                class_name=str(class_name).lower(),
                origin=Origin.ANNOTATION,
            )
        )
    if skipped:
        log.info("%s: %d features are not cell polygons; skipped", path, skipped)
    return cells


def cells_beside(path: Path | str) -> list[Cell]:
    """The cells stored beside an image as `NAME.cells.geojson`; none if absent."""
    path = Path(path)
    beside = [cells_path_for(path), path.with_name(f"{path.stem}.cells.geojson")]
    cells_path = next((candidate for candidate in beside if candidate.is_file()), None)
    return [] if cells_path is None else read_cells_geojson(cells_path)


def open_single_image(path: Path | str, with_cells: bool = True) -> ImageRecord:
    """A record for one image or slide: its size from the file, and (unless
    `with_cells` is false) its cells from `NAME.cells.geojson` beside it."""
    path = Path(path)
    with open_image(path) as source:
        size = source.size
    cells = cells_beside(path) if with_cells else []
    log.info("Opened %s (%dx%d) with %d cells", path, size[0], size[1], len(cells))
    return ImageRecord(
        key=path.name,
        path=path,
        folder_class="",
        kind=ImageKind.CLUSTER,
        stem=path.stem,
        cells=cells,
        size=size,
        used_indices={cell.index for cell in cells},
    )
