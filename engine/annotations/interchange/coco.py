"""COCO instance segmentation JSON: export a dataset's cells, import cells back.

One image entry per image (file name relative to the dataset root), one
annotation per cell with its outline as a polygon, and two fields COCO does not
define but tolerates: `nucleus` (the nucleus outline as a COCO polygon list, or
null) and `cell_index` (the cell's KK in its `.dat` file names). Categories are
the dataset's classes, with their group (normal, benign, abnormal) as the
supercategory.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
from shapely.geometry import Polygon

from engine import __version__
from engine.annotations.dataset import Dataset
from engine.annotations.errors import ImportFormatError
from engine.annotations.interchange.common import (
    ExportSummary,
    ImportedCell,
    ImportSummary,
    add_imported_cells,
    image_file_name,
    images_by_name,
    match_image,
    opened_for_import,
    write_output,
)

log = logging.getLogger(__name__)


def _flat(vertices: np.ndarray) -> list[float | int]:
    """[x1, y1, x2, y2, ...], whole numbers written without a decimal point."""
    return [int(v) if float(v).is_integer() else float(v) for v in vertices.ravel()]


def coco_document(dataset: Dataset) -> dict:
    """The dataset's cells as a COCO instance-segmentation document."""
    categories = [
        {"id": number, "name": cell_class.name, "supercategory": cell_class.group}
        for number, cell_class in enumerate(dataset.scheme.classes, start=1)
    ]
    category_ids = {category["name"]: category["id"] for category in categories}
    images = []
    annotations = []
    for image_id, image in enumerate(dataset.images, start=1):
        width, height = image.size or (0, 0)
        images.append(
            {
                "id": image_id,
                "file_name": image_file_name(dataset, image),
                "width": width,
                "height": height,
            }
        )
        for cell in image.cells:
            x_min, y_min, x_max, y_max = cell.bounds
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category_ids[cell.class_name],
                    "segmentation": [_flat(cell.cytoplasm)],
                    "bbox": [x_min, y_min, x_max - x_min, y_max - y_min],
                    "area": float(Polygon(cell.cytoplasm).area),
                    "iscrowd": 0,
                    "nucleus": None if cell.nucleus is None else [_flat(cell.nucleus)],
                    "cell_index": cell.index,
                }
            )
    return {
        "info": {
            "description": f"Cervix Studio export of {dataset.root.name}"
            + (" (SYNTHETIC sample)" if dataset.settings.synthetic else ""),
            "version": __version__,
            "date_created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def export_coco(dataset: Dataset, out_path: Path | str) -> ExportSummary:
    """Write the dataset's cells to one COCO JSON file."""
    out_path = Path(out_path)
    document = coco_document(dataset)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    write_output(out_path, text.encode("utf-8"))
    log.info("Wrote COCO %r: %d cells", str(out_path), len(document["annotations"]))
    return ExportSummary(
        files=[out_path],
        images=len(document["images"]),
        cells=len(document["annotations"]),
    )


def _polygons(value, width: int, height: int) -> list[np.ndarray]:
    """The outlines of a COCO segmentation: a polygon list or an RLE mask."""
    if isinstance(value, dict):
        return _rle_outlines(value, width, height)
    if not isinstance(value, list) or not value:
        raise ValueError("has no outline")
    if all(isinstance(number, (int, float)) for number in value):
        value = [value]
    polygons = []
    for flat in value:
        if not isinstance(flat, list) or len(flat) % 2:
            raise ValueError("has a polygon that is not a list of x, y pairs")
        polygons.append(np.asarray(flat, dtype=np.float64).reshape(-1, 2))
    return polygons


def _rle_outlines(rle: dict, width: int, height: int) -> list[np.ndarray]:
    from pycocotools import mask as coco_mask

    if isinstance(rle.get("counts"), list):
        rle = coco_mask.frPyObjects(rle, *rle.get("size", (height, width)))
    try:
        mask = coco_mask.decode(rle)
    except (TypeError, ValueError) as error:
        raise ValueError(f"has an RLE mask that cannot be decoded ({error})") from None
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    return [c.reshape(-1, 2).astype(np.float64) for c in contours if len(c) >= 3]


def _largest(polygons: list[np.ndarray], what: str, warnings: list[str]) -> np.ndarray:
    if len(polygons) > 1:
        warnings.append(f"{what} has {len(polygons)} parts; the largest is kept")
    return max(polygons, key=lambda vertices: abs(Polygon(vertices).area))


def _read_document(coco_json: Path) -> dict:
    try:
        document = json.loads(coco_json.read_text(encoding="utf-8"))
    except OSError as error:
        raise ImportFormatError(
            f"cannot be read: {error.strerror}", coco_json
        ) from None
    except UnicodeDecodeError:
        raise ImportFormatError("is not a UTF-8 text file", coco_json) from None
    except json.JSONDecodeError as error:
        raise ImportFormatError(
            f"is not valid JSON ({error.msg})", coco_json, error.lineno
        ) from None
    if not isinstance(document, dict) or not all(
        isinstance(document.get(key), list) for key in ("images", "annotations")
    ):
        raise ImportFormatError(
            "is not a COCO instance file: it needs 'images' and 'annotations' lists",
            coco_json,
        )
    return document


def _sort_key(annotation: dict) -> tuple:
    cell_index = annotation.get("cell_index")
    if not isinstance(cell_index, int):
        cell_index = math.inf
    return cell_index, str(annotation.get("id", ""))


def import_coco_into(dataset: Dataset, coco_json: Path | str) -> ImportSummary:
    """Add the cells of a COCO file to an open dataset, saving each image it changes.

    The caller holds the dataset's lock; `import_coco` is the one-call form.
    """
    coco_json = Path(coco_json)
    document = _read_document(coco_json)
    summary = ImportSummary()
    category_names = {
        category.get("id"): str(category.get("name"))
        for category in document.get("categories") or []
        if isinstance(category, dict)
    }
    by_image: dict[object, list[dict]] = {}
    for annotation in document["annotations"]:
        if isinstance(annotation, dict):
            by_image.setdefault(annotation.get("image_id"), []).append(annotation)

    names = images_by_name(dataset)
    for entry in document["images"]:
        if not isinstance(entry, dict) or entry.get("id") not in by_image:
            continue
        annotations = sorted(by_image[entry["id"]], key=_sort_key)
        file_name = str(entry.get("file_name", ""))
        image, reason = match_image(
            names,
            file_name,
            PurePosixPath(file_name).name,
            PurePosixPath(file_name).stem,
        )
        if image is None:
            summary.warnings.append(
                f"{coco_json}: image {file_name!r} is not in the dataset ({reason}); "
                f"its {len(annotations)} cells were not imported"
            )
            continue
        width = int(entry.get("width") or (image.size or (0, 0))[0])
        height = int(entry.get("height") or (image.size or (0, 0))[1])
        imported = []
        for annotation in annotations:
            source = f"annotation {annotation.get('id')}"
            category = annotation.get("category_id")
            if category not in category_names:
                summary.warnings.append(
                    f"{coco_json}: {source} has category {category!r}, which the "
                    "file does not list; cell skipped"
                )
                continue
            try:
                cytoplasm = _largest(
                    _polygons(annotation.get("segmentation"), width, height),
                    f"{image.key}, {source}",
                    summary.warnings,
                )
                nucleus = None
                if annotation.get("nucleus"):
                    nucleus = _largest(
                        _polygons(annotation["nucleus"], width, height),
                        f"{image.key}, {source} (nucleus)",
                        summary.warnings,
                    )
            except ValueError as error:
                summary.warnings.append(f"{coco_json}: {source} {error}; cell skipped")
                continue
            imported.append(
                ImportedCell(cytoplasm, nucleus, category_names[category], source)
            )
        add_imported_cells(dataset, image, imported, summary)
    log.info("Imported COCO %r: %s", str(coco_json), summary.describe())
    return summary


def import_coco(dataset_root: Path | str, coco_json: Path | str) -> ImportSummary:
    """Add the cells of a COCO file to the dataset at `dataset_root`, matching
    images by file name and classes by name."""
    with opened_for_import(dataset_root) as dataset:
        return import_coco_into(dataset, coco_json)
