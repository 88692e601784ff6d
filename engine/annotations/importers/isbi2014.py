"""Importing the ISBI 2014 overlapping-cell training set: grey cluster images with
one mask per cell, converted into the SIPaKMeD layout with `.dat` outlines.

The truth file `isbi_train_GT.mat` holds, per training image i (the file `i.tif`),
`train_Cytoplasm{i}`, one 512x512 mask per cell (cells overlap by design), and
`train_Nuclei{i}`, one mask of all nuclei that does not say which cell owns which
nucleus; each nucleus goes to the cell that contains it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import cv2
import numpy as np
import scipy.io
from PIL import Image
from scipy.io.matlab import MatReadError
from scipy.optimize import linear_sum_assignment

from engine.annotations.classes import CellClass, ClassScheme
from engine.annotations.errors import ImportFormatError
from engine.annotations.importers.common import (
    ImportReport,
    Progress,
    finish_project,
    staged_destination,
    write_file,
    write_outline,
)
from engine.annotations.importers.contours import (
    TracedOutline,
    fit_inside,
    rasterise,
    trace_outline,
)
from engine.annotations.project import ProjectSettings

log = logging.getLogger(__name__)

TRUTH_FILE = "isbi_train_GT.mat"
IMAGE_NAME = re.compile(r"^(?P<number>\d+)\.tiff?$", re.IGNORECASE)
CELL_CLASS = CellClass("cell", "im_cell", "normal", "Cell")
ISBI_SCHEME = ClassScheme(classes=(CELL_CLASS,))
# A nucleus may cross its cell's edge by a pixel; more than this share outside
# is worth telling the user about.
NUCLEUS_OUTSIDE_WARNING = 0.02


def find_truth_file(source: Path) -> Path:
    """The `.mat` truth file in `source` or in a folder directly below it."""
    if not source.is_dir():
        raise ImportFormatError(
            f"is not a folder; give the ISBI 2014 folder that holds {TRUTH_FILE} "
            "and the training images 1.tif, 2.tif, ...",
            source,
        )
    candidates = [source / TRUTH_FILE]
    candidates += sorted(source.glob(f"*/{TRUTH_FILE}"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ImportFormatError(
        f"holds no ISBI 2014 truth file {TRUTH_FILE}; give the folder that holds it "
        "beside the training images 1.tif, 2.tif, ...",
        source,
    )


def _entries(value: np.ndarray) -> list:
    """The entries of a MATLAB cell array as loadmat returns it (an object array of
    any shape), in MATLAB's order."""
    array = np.asarray(value)
    if array.dtype == object:
        return list(array.ravel(order="F"))
    return [array]


def _cell_masks(entry) -> list[np.ndarray]:
    """The per-cell masks of one image: a cell array of 2-D masks, or one 3-D stack."""
    masks = []
    for item in _entries(entry):
        item = np.asarray(item)
        if item.dtype == object:
            masks.extend(_cell_masks(item))
        elif item.ndim == 3:
            masks.extend(item[:, :, k] for k in range(item.shape[2]))
        elif item.ndim == 2 and item.size:
            masks.append(item)
    return [np.asarray(mask) != 0 for mask in masks]


def read_truth(path: Path) -> tuple[list[list[np.ndarray]], list[np.ndarray], list]:
    """Per training image: its cell masks, its nuclei mask, its stated cell count."""
    try:
        truth = scipy.io.loadmat(str(path))
    except (OSError, ValueError, NotImplementedError, TypeError, MatReadError) as error:
        raise ImportFormatError(
            f"cannot be read as a MATLAB file ({error})", path
        ) from None
    missing = [key for key in ("train_Cytoplasm", "train_Nuclei") if key not in truth]
    if missing:
        raise ImportFormatError(
            f"is not the ISBI 2014 truth file: it has no {', '.join(missing)}", path
        )
    cells = [_cell_masks(entry) for entry in _entries(truth["train_Cytoplasm"])]
    nuclei = [np.asarray(entry) != 0 for entry in _entries(truth["train_Nuclei"])]
    counts = np.asarray(truth.get("CellNum", np.zeros(0))).ravel().tolist()
    return cells, nuclei, counts


def find_images(folder: Path) -> dict[int, Path]:
    """The training images `N.tif` of a folder, by their number N (from 1)."""
    images = {}
    for path in sorted(folder.iterdir()):
        match = IMAGE_NAME.match(path.name)
        if match and path.is_file():
            images[int(match["number"])] = path
    return images


def assign_nuclei(
    cells: list[TracedOutline | None], nuclei_mask: np.ndarray
) -> tuple[dict[int, list[np.ndarray]], list[np.ndarray]]:
    """Which nucleus (a connected piece of the nuclei mask) belongs to which cell.

    Cells overlap, so a nucleus in an overlap lies in two cells; matching nuclei
    to cells one to one by overlap gives each cell its own nucleus where a
    greedy choice would give one cell both. A nucleus left over joins the cell
    it overlaps most. Returns the nuclei per cell index and those in no cell.
    """
    count, labels = cv2.connectedComponents(
        nuclei_mask.astype(np.uint8), connectivity=8
    )
    pieces = [labels == k for k in range(1, count)]
    shape = nuclei_mask.shape
    areas = [rasterise(c.vertices, shape) if c is not None else None for c in cells]
    overlap = np.zeros((len(pieces), len(cells)))
    for row, piece in enumerate(pieces):
        ys, xs = np.nonzero(piece)
        for column, area in enumerate(areas):
            if area is not None:
                overlap[row, column] = area[ys, xs].sum()

    owners: dict[int, list[np.ndarray]] = {}
    assigned = set()
    if overlap.size:
        rows, columns = linear_sum_assignment(overlap, maximize=True)
        for row, column in zip(rows, columns, strict=True):
            if overlap[row, column] > 0:
                owners.setdefault(int(column), []).append(pieces[row])
                assigned.add(int(row))
    homeless = []
    for row, piece in enumerate(pieces):
        if row in assigned:
            continue
        if overlap.shape[1] and overlap[row].max() > 0:
            owners.setdefault(int(np.argmax(overlap[row])), []).append(piece)
        else:
            homeless.append(piece)
    return owners, homeless


def _image_as_rgb(path: Path) -> np.ndarray:
    """The training image as three equal 8-bit channels: the same grey values."""
    with Image.open(path) as image:
        pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        raise ValueError(f"its pixels are {pixels.dtype}, not 8-bit")
    if pixels.ndim == 2:
        return np.repeat(pixels[:, :, None], 3, axis=2)
    if pixels.ndim == 3 and pixels.shape[2] >= 3:
        return np.ascontiguousarray(pixels[:, :, :3])
    raise ValueError(f"its pixels have the unexpected shape {pixels.shape}")


def _bmp_bytes(rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".bmp", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("it could not be encoded as BMP")
    return encoded.tobytes()


def _where(mask: np.ndarray) -> str:
    ys, xs = np.nonzero(mask)
    return f"({int(xs.mean())}, {int(ys.mean())})"


def _cell_nucleus(
    number: int,
    index: int,
    cell: TracedOutline,
    nuclei: list[np.ndarray],
    truth_path: Path,
    report: ImportReport,
) -> np.ndarray | None:
    """The nucleus outline of one cell from the nuclei given to it."""
    where = f"image {number}, cell {index}"
    if len(nuclei) > 1:
        sizes = sorted((int(n.sum()) for n in nuclei), reverse=True)
        report.warn(
            truth_path,
            f"{where} contains {len(nuclei)} nuclei of {sizes} pixels; the "
            "largest is kept",
        )
    nucleus_piece = max(nuclei, key=lambda piece: int(piece.sum()))
    inside = nucleus_piece & rasterise(cell.vertices, nucleus_piece.shape)
    outside = 1 - inside.sum() / max(int(nucleus_piece.sum()), 1)
    if outside > NUCLEUS_OUTSIDE_WARNING:
        report.warn(
            truth_path,
            f"{where}: {outside:.0%} of its nucleus lies outside the cell and is "
            "left out",
        )
    traced = trace_outline(inside)
    if traced is None:
        report.warn(truth_path, f"{where}: its nucleus is too small to outline")
        return None
    vertices = fit_inside(traced.vertices, cell.vertices)
    if vertices is None:
        report.warn(truth_path, f"{where}: its nucleus lies outside the cell")
    return vertices


def _import_image(
    number: int,
    image_path: Path,
    cell_masks: list[np.ndarray],
    nuclei_mask: np.ndarray,
    stated_count: int | None,
    truth_path: Path,
    folder: Path,
    report: ImportReport,
) -> bool:
    """Write one training image and its cells; False when it was skipped."""
    try:
        rgb = _image_as_rgb(image_path)
        bmp = _bmp_bytes(rgb)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        report.warn(image_path, f"cannot be imported ({error}); skipped")
        return False
    shape = rgb.shape[:2]
    wrong = [m.shape for m in [*cell_masks, nuclei_mask] if m.shape != shape]
    if wrong:
        report.warn(
            image_path,
            f"is {shape[1]}x{shape[0]} pixels but its masks in {truth_path.name} "
            f"are {wrong[0][1]}x{wrong[0][0]}; skipped",
        )
        return False
    if stated_count is not None and stated_count != len(cell_masks):
        report.warn(
            truth_path,
            f"image {number}: CellNum says {stated_count} cells, the file holds "
            f"{len(cell_masks)} masks; all masks are imported",
        )

    cells: list[TracedOutline | None] = []
    for index, mask in enumerate(cell_masks, start=1):
        traced = trace_outline(mask)
        if traced is None:
            report.warn(
                truth_path, f"image {number}, cell {index}: empty mask; skipped"
            )
            report.skipped += 1
        elif traced.pieces > 1:
            report.warn(
                truth_path,
                f"image {number}, cell {index} is in {traced.pieces} pieces; the "
                f"largest is kept and {traced.dropped_pixels} pixels are left out",
            )
        cells.append(traced)
    owners, homeless = assign_nuclei(cells, nuclei_mask)
    for piece in homeless:
        report.warn(
            truth_path,
            f"image {number}: the nucleus at {_where(piece)} lies in no cell; left out",
        )

    stem = f"{number:03d}"
    write_file(folder / f"{stem}.bmp", bmp)
    for index, cell in enumerate(cells, start=1):
        if cell is None:
            continue
        write_outline(folder / f"{stem}_cyt{index:02d}.dat", cell.vertices)
        report.cells[CELL_CLASS.name] += 1
        if index - 1 not in owners:
            continue
        nucleus = _cell_nucleus(
            number, index, cell, owners[index - 1], truth_path, report
        )
        if nucleus is not None:
            write_outline(folder / f"{stem}_nuc{index:02d}.dat", nucleus)
            report.nuclei += 1
    report.images += 1
    return True


def import_isbi2014(
    source: Path | str, destination: Path | str, progress: Progress | None = None
) -> ImportReport:
    """Convert the ISBI 2014 training images at `source` (those present of the 45)
    into a new SIPaKMeD-layout dataset at `destination` with one class, "cell"."""
    source = Path(source).expanduser()
    destination = Path(destination).expanduser()
    report = ImportReport("isbi2014", source, destination)
    report.cells = {CELL_CLASS.name: 0}
    truth_path = find_truth_file(source)
    cells, nuclei, counts = read_truth(truth_path)
    images = find_images(truth_path.parent)
    if not images:
        raise ImportFormatError(
            f"holds no training images named 1.tif, 2.tif, ... beside {TRUTH_FILE}",
            truth_path.parent,
        )
    absent = len(cells) - len(set(images) & set(range(1, len(cells) + 1)))
    if absent:
        log.info(
            "%d of %d training images are not in %r", absent, len(cells), str(source)
        )
    log.info("Importing %d ISBI 2014 images from %r", len(images), str(source))

    origins: dict[str, str] = {}
    with staged_destination(destination) as root:
        folder = root / CELL_CLASS.folder / CELL_CLASS.folder
        folder.mkdir(parents=True)
        for done, (number, image_path) in enumerate(sorted(images.items()), start=1):
            if number > len(cells) or number > len(nuclei):
                report.warn(
                    image_path,
                    f"{TRUTH_FILE} has truth for images 1 to {len(cells)} only; "
                    "skipped",
                )
                report.skipped += 1
            else:
                stated = int(counts[number - 1]) if number <= len(counts) else None
                imported = _import_image(
                    number,
                    image_path,
                    cells[number - 1],
                    nuclei[number - 1],
                    stated,
                    truth_path,
                    folder,
                    report,
                )
                if imported:
                    key = (folder / f"{number:03d}.bmp").relative_to(root).as_posix()
                    origins[key] = image_path.relative_to(source).as_posix()
                else:
                    report.skipped += 1
            if progress is not None:
                progress(done, len(images))
        settings = ProjectSettings(scheme=ISBI_SCHEME, source="isbi2014")
        finish_project(root, settings, report, origins)
    log.info(
        "Imported ISBI 2014 into %r: %d images, %d cells, %d warnings",
        str(destination),
        report.images,
        report.cell_count,
        len(report.warnings),
    )
    return report
