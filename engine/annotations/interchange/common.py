"""What the interchange formats share: summaries, safe output files, and adding
imported cells to a dataset through its own safe writer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.annotations.cells import Cell, ImageKind, ImageRecord
from engine.annotations.classes import ClassScheme
from engine.annotations.dataset import (
    NUCLEUS_OUTSIDE_TOLERANCE,
    Dataset,
    check_nucleus_inside,
    new_cell,
    polygon_problem,
)
from engine.annotations.datfile import DEFAULT_STYLE, DatStyle
from engine.errors import CervixError, SaveError

log = logging.getLogger(__name__)

# A vertex of an imported outline that equals an existing cell's vertex to this
# many pixels counts as the same vertex when spotting a repeated import.
SAME_VERTEX_PX = 1e-6


class ExportError(CervixError):
    """An export could not write its output."""


@dataclass
class ExportSummary:
    """What an export wrote."""

    files: list[Path] = field(default_factory=list)
    images: int = 0
    cells: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    """What an import added: images that received cells, cells, and what it skipped.

    `warnings` are things left out of the import (an unknown class, an image not
    in the dataset); `errors` are images whose new cells could not be saved.
    """

    images: int = 0
    cells_added: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{self.cells_added} cells added to {self.images} images, "
            f"{len(self.warnings)} warnings, {len(self.errors)} errors"
        )


@dataclass
class ImportedCell:
    """A cell read from an interchange file, before it is checked and added."""

    cytoplasm: np.ndarray
    nucleus: np.ndarray | None
    class_name: str
    source: str  # where it came from in the file, for warnings: "annotation 12"


def image_file_stem(image_key: str) -> str:
    """A file name for an image's key: `im_Parabasal/001` -> `im_Parabasal__001`."""
    return image_key.replace("/", "__")


def image_file_name(dataset: Dataset, image: ImageRecord) -> str:
    """The image file's path relative to the dataset root, with forward slashes."""
    return image.path.relative_to(dataset.root).as_posix()


def ensure_folder(folder: Path) -> Path:
    """Create an output folder, or explain why it cannot be created."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(
            f"cannot create the output folder: {error.strerror}",
            folder,
            "choose a writable place for --out",
        ) from None
    if not folder.is_dir():
        raise ExportError("is not a folder", folder, "choose a folder for --out")
    return folder


def write_output(path: Path, data: bytes) -> Path:
    """Write one output file whole (a temporary file renamed over the target)."""
    ensure_folder(path.parent)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise ExportError(
            f"cannot be written: {error.strerror}",
            path,
            "check that the place is writable and the disk is not full",
        ) from None
    return path


def resolve_class(scheme: ClassScheme, name: str) -> str | None:
    """The dataset's class for a name from another tool, matching case-blind on
    the class name, its display label and its folder; None when there is none."""
    if name in scheme.names:
        return name
    wanted = name.strip().lower()
    for cell_class in scheme.classes:
        candidates = {cell_class.name.lower(), cell_class.label.lower()}
        candidates.add(cell_class.folder.lower().removeprefix("im_"))
        if wanted in candidates:
            return cell_class.name
    return None


def dat_style_for(vertices: np.ndarray) -> DatStyle:
    """Integers when every coordinate is whole, else the shortest exact decimals,
    so that the written `.dat` file reads back as the imported outline."""
    if np.all(vertices == np.round(vertices)):
        return DEFAULT_STYLE
    return DatStyle(decimals=-1)


def _outline_fault(imported: ImportedCell) -> str | None:
    for part, vertices in (("cell", imported.cytoplasm), ("nucleus", imported.nucleus)):
        if vertices is None:
            continue
        if len(vertices) < 3:
            return f"its {part} outline has fewer than 3 vertices"
        if not np.all(np.isfinite(vertices)):
            return f"its {part} outline has a coordinate that is not a number"
        fault = polygon_problem(vertices)
        if fault is not None:
            return f"its {part} outline: {fault[0]}"
    if imported.nucleus is not None:
        outside = check_nucleus_inside(imported.cytoplasm, imported.nucleus)
        if outside > NUCLEUS_OUTSIDE_TOLERANCE:
            return f"its nucleus lies {outside:.0%} outside the cell"
    return None


def _already_there(image: ImageRecord, class_name: str, cytoplasm: np.ndarray) -> bool:
    for cell in image.cells:
        if (
            cell.class_name == class_name
            and cell.cytoplasm.shape == cytoplasm.shape
            and np.allclose(cell.cytoplasm, cytoplasm, rtol=0, atol=SAME_VERTEX_PX)
        ):
            return True
    return False


def add_imported_cells(
    dataset: Dataset,
    image: ImageRecord,
    imported: list[ImportedCell],
    summary: ImportSummary,
) -> None:
    """Check each imported cell, add the good ones to the image and save the image.

    A cell is skipped, with a warning, when its class is unknown, its outline is
    not a valid polygon, its nucleus lies outside it, it lies wholly outside the
    image, or the image already holds the same cell (a repeated import).
    """
    added: list[Cell] = []
    repeated = 0
    for candidate in imported:
        where = f"{image.key}, {candidate.source}"
        class_name = resolve_class(dataset.scheme, candidate.class_name)
        if class_name is None:
            summary.warnings.append(
                f"{where}: class {candidate.class_name!r} is not a class of this "
                f"dataset ({', '.join(dataset.scheme.names)}); cell skipped"
            )
            continue
        fault = _outline_fault(candidate)
        if fault is not None:
            summary.warnings.append(f"{where}: {fault}; cell skipped")
            continue
        if image.size is not None:
            x_min, y_min = candidate.cytoplasm.min(axis=0)
            x_max, y_max = candidate.cytoplasm.max(axis=0)
            width, height = image.size
            if x_max < 0 or y_max < 0 or x_min > width or y_min > height:
                summary.warnings.append(
                    f"{where}: the cell lies outside the {width}x{height} image; "
                    "cell skipped"
                )
                continue
        if _already_there(image, class_name, candidate.cytoplasm):
            repeated += 1
            continue
        if image.kind is ImageKind.CROPPED and (image.cells or added):
            summary.warnings.append(
                f"{where}: a cropped cell image holds one cell and already has "
                "one; cell skipped"
            )
            continue
        cell = new_cell(
            candidate.cytoplasm,
            candidate.nucleus,
            class_name,
            cytoplasm_style=dat_style_for(candidate.cytoplasm),
            nucleus_style=(
                DEFAULT_STYLE
                if candidate.nucleus is None
                else dat_style_for(candidate.nucleus)
            ),
        )
        added.append(dataset.add_cell(image, cell))
    if repeated:
        summary.warnings.append(
            f"{image.key}: {repeated} cells are already in the dataset with the same "
            "outline and class; not added again"
        )
    if not added:
        return
    try:
        dataset.save(image)
    except SaveError as error:
        for cell in added:
            image.cells.remove(cell)
        summary.errors.append(f"{image.key}: saving failed: {error.user_message()}")
        return
    summary.images += 1
    summary.cells_added += len(added)
    log.info("Imported %d cells into %s", len(added), image.key)


@contextlib.contextmanager
def opened_for_import(dataset_root: Path | str) -> Iterator[Dataset]:
    """Open a dataset and hold its editing lock while cells are imported into it."""
    dataset = Dataset.open(dataset_root)
    lock = dataset.project.lock()
    holder = lock.holder()
    if (
        holder is not None
        and holder.get("host") == socket.gethostname()
        and holder.get("pid") == os.getpid()
    ):
        # This process (an open window) already holds the lock; taking it again
        # would release it, on leaving, from under the window.
        yield dataset
        return
    with lock:
        yield dataset


def images_by_name(dataset: Dataset) -> dict[str, list[ImageRecord]]:
    """The dataset's images under every name another tool may call them by:
    the path relative to the root, the key, the key as a file stem, the file name
    and the file stem."""
    names: dict[str, list[ImageRecord]] = {}
    for image in dataset.images:
        for name in {
            image_file_name(dataset, image),
            image.key,
            image_file_stem(image.key),
            image.path.name,
            image.path.stem,
        }:
            names.setdefault(name, []).append(image)
    return names


def match_image(
    names: dict[str, list[ImageRecord]], *candidates: str
) -> tuple[ImageRecord | None, str]:
    """The image named by the first candidate that names exactly one, or None and
    why not."""
    reason = "no image of the dataset has this name"
    for candidate in candidates:
        if not candidate:
            continue
        found = names.get(candidate.replace("\\", "/"), [])
        if len(found) == 1:
            return found[0], ""
        if len(found) > 1:
            keys = ", ".join(image.key for image in found[:3])
            reason = f"{candidate!r} names several images ({keys}, ...)"
    return None, reason
