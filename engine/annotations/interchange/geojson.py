"""QuPath GeoJSON: one file per image of cell objects, each with its nucleus.

QuPath writes a cell object as a Feature whose `geometry` is the whole cell and
whose `nucleusGeometry`, beside `geometry` rather than inside `properties`, is
the nucleus; `properties` hold `objectType: "cell"`, the class as a
`classification` with a name and an RGB colour, and a `measurements` map.
Coordinates are pixels of the full-resolution image with y pointing down, the
same as ours, so nothing is flipped. QuPath imports objects one image at a time,
hence one file per image, named after the image's key.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import numpy as np
from shapely.geometry import Polygon

from engine.annotations.cells import Cell, ImageRecord
from engine.annotations.classes import ClassScheme
from engine.annotations.dataset import Dataset
from engine.annotations.errors import ImportFormatError
from engine.annotations.interchange.common import (
    ExportError,
    ExportSummary,
    ImportedCell,
    ImportSummary,
    add_imported_cells,
    ensure_folder,
    image_file_stem,
    images_by_name,
    match_image,
    opened_for_import,
    resolve_class,
    write_output,
)
from engine.metrics.measurements import measure_cell

log = logging.getLogger(__name__)

GEOJSON_SUFFIXES = (".geojson", ".json")

# Distinct colours for QuPath's class list, in the dataset's class order.
CLASS_COLOURS = (
    (66, 135, 245),
    (46, 184, 92),
    (240, 180, 41),
    (230, 112, 36),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (23, 190, 207),
)

# Object types that are cells in QuPath's sense; an annotation becomes a cell
# only when its classification names one of the dataset's classes.
CELL_OBJECT_TYPES = ("cell", "detection", "PathCellObject", "PathDetectionObject")


def class_colour(scheme: ClassScheme, class_name: str) -> list[int]:
    position = scheme.names.index(class_name) if class_name in scheme.names else 0
    return list(CLASS_COLOURS[position % len(CLASS_COLOURS)])


def _ring(vertices: np.ndarray) -> list[list[float]]:
    """A closed GeoJSON ring; whole numbers are written without a decimal point."""
    points = [
        [int(v) if float(v).is_integer() else float(v) for v in vertex]
        for vertex in vertices
    ]
    return points + [points[0]]


def _measurements(cell: Cell, microns_per_pixel: float | None) -> dict[str, float]:
    """QuPath-style measurement names; values that do not exist are left out."""
    figures = measure_cell(cell, microns_per_pixel=microns_per_pixel)
    area_unit = "µm^2" if microns_per_pixel else "px^2"
    length_unit = "µm" if microns_per_pixel else "px"
    named = {
        f"Cell: Area {area_unit}": figures.area,
        f"Cell: Perimeter {length_unit}": figures.perimeter,
        "Cell: Circularity": figures.circularity,
        f"Nucleus: Area {area_unit}": figures.nucleus_area,
        "Nucleus/Cytoplasm area ratio": figures.nc_ratio,
    }
    return {name: value for name, value in named.items() if value is not None}


def cell_feature(
    dataset: Dataset,
    image: ImageRecord,
    cell: Cell,
    microns_per_pixel: float | None = None,
) -> dict:
    """One cell as a QuPath cell-object Feature."""
    feature = {
        "type": "Feature",
        # Stable across exports, so a re-export names the same cell the same way.
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cervix:{image.key}#{cell.index}")),
        "geometry": {"type": "Polygon", "coordinates": [_ring(cell.cytoplasm)]},
    }
    if cell.nucleus is not None:
        feature["nucleusGeometry"] = {
            "type": "Polygon",
            "coordinates": [_ring(cell.nucleus)],
        }
    feature["properties"] = {
        "objectType": "cell",
        "classification": {
            "name": cell.class_name,
            "color": class_colour(dataset.scheme, cell.class_name),
        },
        "isLocked": False,
        "measurements": _measurements(cell, microns_per_pixel),
    }
    return feature


def image_feature_collection(
    dataset: Dataset, image: ImageRecord, microns_per_pixel: float | None = None
) -> dict:
    """An image's cells as a GeoJSON FeatureCollection QuPath can import."""
    return {
        "type": "FeatureCollection",
        "features": [
            cell_feature(dataset, image, cell, microns_per_pixel)
            for cell in image.cells
        ],
    }


def export_geojson(
    dataset: Dataset,
    out_dir_or_file: Path | str,
    microns_per_pixel: float | None = None,
) -> ExportSummary:
    """Write one QuPath GeoJSON file per image into a folder, named
    `<image key with / replaced by __>.geojson`; a path ending in .geojson or
    .json is taken as the file for a dataset of one image."""
    out = Path(out_dir_or_file)
    if out.suffix.lower() in GEOJSON_SUFFIXES:
        if len(dataset.images) != 1:
            raise ExportError(
                f"is one file, but the dataset has {len(dataset.images)} images and "
                "QuPath imports one file per image",
                out,
                "give a folder for --out",
            )
        targets = [(dataset.images[0], out)]
    else:
        ensure_folder(out)
        targets = [
            (image, out / f"{image_file_stem(image.key)}.geojson")
            for image in dataset.images
        ]
    summary = ExportSummary()
    for image, path in targets:
        collection = image_feature_collection(dataset, image, microns_per_pixel)
        text = json.dumps(collection, ensure_ascii=False, indent=1)
        summary.files.append(write_output(path, text.encode("utf-8")))
        summary.images += 1
        summary.cells += len(collection["features"])
    log.info("Wrote %d GeoJSON files to %r", len(summary.files), str(out))
    return summary


# -- import -----------------------------------------------------------------------


def _features(document) -> list[dict]:
    """Every feature of a QuPath file, including objects nested as children."""
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        pending = list(document.get("features") or [])
    elif isinstance(document, dict):
        pending = [document]
    elif isinstance(document, list):
        pending = list(document)
    else:
        return []
    features = []
    pending.reverse()
    while pending:
        feature = pending.pop()
        if not isinstance(feature, dict):
            continue
        features.append(feature)
        properties = feature.get("properties") or {}
        children = properties.get("childObjects") or properties.get("children") or []
        if isinstance(children, list):
            # Children come right after their parent, in the file's order.
            pending.extend(reversed(children))
    return features


def _outline(geometry, what: str, warnings: list[str]) -> np.ndarray:
    """The outer ring of a Polygon, or of the largest part of a MultiPolygon."""
    if not isinstance(geometry, dict):
        raise ValueError(f"has no {what} geometry")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        rings = [coordinates[0]] if coordinates else []
    elif kind == "MultiPolygon":
        rings = [polygon[0] for polygon in coordinates or [] if polygon]
    else:
        raise ValueError(f"has a {what} geometry of type {kind!r}, not a polygon")
    try:
        outlines = [np.asarray(ring, dtype=np.float64)[:, :2] for ring in rings]
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"has {what} coordinates that are not x, y pairs") from None
    if not outlines:
        raise ValueError(f"has an empty {what} geometry")
    if len(outlines) > 1:
        warnings.append(f"its {what} has {len(outlines)} parts; the largest is kept")
    outline = max(outlines, key=lambda vertices: abs(Polygon(vertices).area))
    if len(outline) > 1 and np.array_equal(outline[0], outline[-1]):
        outline = outline[:-1]
    return outline


def _classification_name(properties: dict) -> str | None:
    classification = properties.get("classification")
    if isinstance(classification, str):
        return classification
    if not isinstance(classification, dict):
        return None
    if classification.get("name"):
        return str(classification["name"])
    names = classification.get("names")
    if isinstance(names, list) and names:
        return ": ".join(str(name) for name in names)
    return None


def _object_type(properties: dict) -> str:
    for key in ("objectType", "object_type", "type"):
        if properties.get(key):
            return str(properties[key])
    return "annotation"


def _read_file(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ImportFormatError(f"cannot be read: {error.strerror}", path) from None
    except UnicodeDecodeError:
        raise ImportFormatError("is not a UTF-8 text file", path) from None
    except json.JSONDecodeError as error:
        raise ImportFormatError(
            f"is not valid JSON ({error.msg})", path, error.lineno
        ) from None


def _cells_of_file(
    path: Path, image: ImageRecord, scheme: ClassScheme, summary: ImportSummary
) -> list[ImportedCell]:
    imported = []
    not_cells = 0
    unclassified = 0
    for number, feature in enumerate(_features(_read_file(path)), start=1):
        properties = feature.get("properties") or {}
        object_type = _object_type(properties)
        class_name = _classification_name(properties)
        is_cell = object_type in CELL_OBJECT_TYPES or (
            object_type in ("annotation", "PathAnnotationObject")
            and class_name is not None
            and resolve_class(scheme, class_name) is not None
        )
        if not is_cell:
            not_cells += 1
            continue
        if class_name is None:
            unclassified += 1
            class_name = image.folder_class
        source = f"feature {number}"
        notes: list[str] = []
        try:
            cytoplasm = _outline(feature.get("geometry"), "cell", notes)
            nucleus = None
            if feature.get("nucleusGeometry"):
                nucleus = _outline(feature["nucleusGeometry"], "nucleus", notes)
        except ValueError as error:
            summary.warnings.append(f"{path}: {source} {error}; cell skipped")
            continue
        summary.warnings.extend(f"{path}: {source}: {note}" for note in notes)
        imported.append(ImportedCell(cytoplasm, nucleus, class_name, source))
    if not_cells:
        summary.warnings.append(
            f"{path}: {not_cells} objects are not cells (annotations without a cell "
            "class, tiles, cores); not imported"
        )
    if unclassified:
        summary.warnings.append(
            f"{path}: {unclassified} cells have no classification; they take the "
            f"class of the image's folder ({image.folder_class})"
        )
    return imported


def geojson_files(path: Path) -> list[Path]:
    """The GeoJSON files to import: the file itself, or those directly in a folder."""
    if path.is_dir():
        return sorted(
            child
            for child in path.iterdir()
            if child.is_file() and child.suffix.lower() in GEOJSON_SUFFIXES
        )
    if path.is_file():
        return [path]
    raise ImportFormatError(
        "does not exist", path, "give a GeoJSON file or a folder of them"
    )


def import_geojson_into(dataset: Dataset, path: Path | str) -> ImportSummary:
    """Add the cells of QuPath GeoJSON files to an open dataset, saving each image.

    Each file is matched to an image by its name: the image's key with `/` as
    `__` (what `export_geojson` writes), or the image's file name or stem; a
    single file given for a dataset of one image belongs to that image. The
    caller holds the dataset's lock; `import_geojson` is the one-call form.
    """
    path = Path(path)
    summary = ImportSummary()
    names = images_by_name(dataset)
    for file in geojson_files(path):
        stem = file.name[: -len(file.suffix)]
        image, reason = match_image(names, stem, Path(stem).stem)
        if image is None and path.is_file() and len(dataset.images) == 1:
            # The one-file form of export_geojson may carry any name.
            image = dataset.images[0]
        if image is None:
            summary.warnings.append(
                f"{file}: matches no image of the dataset ({reason}); not imported"
            )
            continue
        imported = _cells_of_file(file, image, dataset.scheme, summary)
        add_imported_cells(dataset, image, imported, summary)
    log.info("Imported GeoJSON %r: %s", str(path), summary.describe())
    return summary


def import_geojson(dataset_root: Path | str, path: Path | str) -> ImportSummary:
    """Add the cells of a QuPath GeoJSON file, or a folder of them (one per image),
    to the dataset at `dataset_root`."""
    with opened_for_import(dataset_root) as dataset:
        return import_geojson_into(dataset, path)
