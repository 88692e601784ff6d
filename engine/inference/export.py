"""Predicted cells out of the store into the interchange formats: QuPath GeoJSON
(one file per image, cells with their nucleus) and one COCO instance file with
scores, laid out as `engine.annotations.interchange` writes annotated cells.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from shapely.geometry import Polygon

from engine import __version__
from engine.annotations.classes import ClassScheme
from engine.annotations.interchange.common import (
    ExportSummary,
    ensure_folder,
    image_file_stem,
    write_output,
)
from engine.annotations.interchange.geojson import class_colour
from engine.predictions import ImagePredictions, PredictedCell, PredictionStore

log = logging.getLogger(__name__)

UNCLASSIFIED = "unclassified"


def _ring(vertices: np.ndarray) -> list[list[float]]:
    points = [[round(float(x), 2), round(float(y), 2)] for x, y in vertices]
    return points + [points[0]]


def _flat(vertices: np.ndarray) -> list[float]:
    return [round(float(value), 2) for value in np.asarray(vertices).ravel()]


def predicted_feature(
    predictions: ImagePredictions,
    cell: PredictedCell,
    scheme: ClassScheme,
    run: str,
) -> dict:
    """One predicted cell as a QuPath cell object, its probabilities as
    measurements."""
    name = cell.predicted_class or UNCLASSIFIED
    measurements = {"Score": round(float(cell.score), 5)}
    for class_name, probability in (cell.probabilities or {}).items():
        measurements[f"Probability: {class_name}"] = round(float(probability), 5)
    feature = {
        "type": "Feature",
        "id": str(
            uuid.uuid5(
                uuid.NAMESPACE_URL,
                f"cervix-prediction:{run}/{predictions.image_key}#{cell.id}",
            )
        ),
        "geometry": {"type": "Polygon", "coordinates": [_ring(cell.cytoplasm)]},
    }
    if cell.nucleus is not None:
        feature["nucleusGeometry"] = {
            "type": "Polygon",
            "coordinates": [_ring(cell.nucleus)],
        }
    feature["properties"] = {
        "objectType": "cell",
        "classification": {"name": name, "color": class_colour(scheme, name)},
        "isLocked": False,
        "measurements": measurements,
        "source": cell.source,
    }
    return feature


def export_predictions_geojson(
    store: PredictionStore,
    run: str,
    out_dir: Path | str,
    scheme: ClassScheme | None = None,
) -> ExportSummary:
    """Write `<image key with / as __>.geojson` per image of the run into a folder."""
    out = ensure_folder(Path(out_dir))
    scheme = scheme or ClassScheme()
    summary = ExportSummary()
    for key in store.images_with_cells(run):
        predictions = store.load_cells(run, key)
        features = [
            predicted_feature(predictions, cell, scheme, run)
            for cell in predictions.cells
        ]
        document = {"type": "FeatureCollection", "features": features}
        text = json.dumps(document, ensure_ascii=False)
        path = out / f"{image_file_stem(key)}.geojson"
        summary.files.append(write_output(path, text.encode("utf-8")))
        summary.images += 1
        summary.cells += len(features)
    log.info("Wrote %d GeoJSON files of run %s to %r", summary.images, run, str(out))
    return summary


def export_predictions_coco(
    store: PredictionStore,
    run: str,
    out_path: Path | str,
    scheme: ClassScheme | None = None,
) -> ExportSummary:
    """Write the run's cells as one COCO instance file, each with its score, and
    its nucleus and class probabilities in extra fields COCO tolerates."""
    out_path = Path(out_path)
    scheme = scheme or ClassScheme()
    keys = store.images_with_cells(run)
    loaded = [store.load_cells(run, key) for key in keys]
    names = list(dict.fromkeys(name for p in loaded for name in p.classes))
    for predictions in loaded:
        for cell in predictions.cells:
            name = cell.predicted_class or UNCLASSIFIED
            if name not in names:
                names.append(name)
    groups = {c.name: c.group for c in scheme.classes}
    categories = [
        {"id": number, "name": name, "supercategory": groups.get(name, "cell")}
        for number, name in enumerate(names, start=1)
    ]
    category_ids = {category["name"]: category["id"] for category in categories}
    images, annotations = [], []
    for image_id, predictions in enumerate(loaded, start=1):
        width, height = predictions.image_size
        images.append(
            {
                "id": image_id,
                "file_name": predictions.image_key,
                "width": width,
                "height": height,
            }
        )
        for cell in predictions.cells:
            x_min, y_min = cell.cytoplasm.min(axis=0)
            x_max, y_max = cell.cytoplasm.max(axis=0)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category_ids[cell.predicted_class or UNCLASSIFIED],
                    "segmentation": [_flat(cell.cytoplasm)],
                    "bbox": [
                        round(float(x_min), 2),
                        round(float(y_min), 2),
                        round(float(x_max - x_min), 2),
                        round(float(y_max - y_min), 2),
                    ],
                    "area": round(float(Polygon(cell.cytoplasm).area), 2),
                    "iscrowd": 0,
                    "score": round(float(cell.score), 5),
                    "nucleus": None if cell.nucleus is None else [_flat(cell.nucleus)],
                    "probabilities": cell.probabilities,
                    "cell_id": cell.id,
                }
            )
    document = {
        "info": {
            "description": f"Cervix Studio predictions, run {run}",
            "version": __version__,
            "date_created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    write_output(out_path, text.encode("utf-8"))
    log.info("Wrote COCO %r: %d predicted cells", str(out_path), len(annotations))
    return ExportSummary(files=[out_path], images=len(images), cells=len(annotations))
