"""Importing the Herlev Pap smear dataset: single-cell images with palette masks,
converted into the SIPaKMeD layout as cropped cells with `.dat` outlines.

Herlev keeps `<class>/<name>.BMP` beside its mask `<name>-d.bmp`, an 8-bit
palette image: index 2 nucleus, 3 cytoplasm, 4 background, 0 and 1 unlabelled
border. The whole cell is the union of nucleus and cytoplasm, so a nucleus that
reaches the background still lies inside its cell.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.annotations.classes import CellClass, ClassScheme
from engine.annotations.errors import ImportFormatError
from engine.annotations.importers.common import (
    ImportReport,
    Progress,
    finish_project,
    staged_destination,
    write_outline,
)
from engine.annotations.importers.contours import fit_inside, rasterise, trace_outline
from engine.annotations.project import ProjectSettings
from engine.errors import SaveError

log = logging.getLogger(__name__)

NUCLEUS, CYTOPLASM, BACKGROUND = 2, 3, 4
UNLABELLED = (0, 1)
# The colours of the palette, for masks that were saved again as RGB.
LABEL_COLOURS = {NUCLEUS: (0, 0, 255), CYTOPLASM: (0, 0, 128), BACKGROUND: (255, 0, 0)}
MASK_SUFFIX = "-d.bmp"

HERLEV_CLASSES = (
    CellClass(
        "normal_superficiel", "im_normal_superficiel", "normal", "Normal superficial"
    ),
    CellClass(
        "normal_intermediate", "im_normal_intermediate", "normal", "Normal intermediate"
    ),
    CellClass("normal_columnar", "im_normal_columnar", "normal", "Normal columnar"),
    CellClass(
        "light_dysplastic", "im_light_dysplastic", "abnormal", "Light dysplastic"
    ),
    CellClass(
        "moderate_dysplastic",
        "im_moderate_dysplastic",
        "abnormal",
        "Moderate dysplastic",
    ),
    CellClass(
        "severe_dysplastic", "im_severe_dysplastic", "abnormal", "Severe dysplastic"
    ),
    CellClass(
        "carcinoma_in_situ", "im_carcinoma_in_situ", "abnormal", "Carcinoma in situ"
    ),
)
HERLEV_SCHEME = ClassScheme(classes=HERLEV_CLASSES)


@dataclass(frozen=True)
class HerlevSample:
    """One Herlev cell: its class, image and mask (either may be missing)."""

    cell_class: CellClass
    name: str
    image: Path | None
    mask: Path | None


def _class_of_folder(name: str) -> CellClass | None:
    wanted = name.strip().lower().replace(" ", "_").replace("-", "_")
    for cell_class in HERLEV_CLASSES:
        if cell_class.name == wanted:
            return cell_class
    return None


def find_samples(source: Path, report: ImportReport) -> list[HerlevSample]:
    """Every image and mask below the class folders of a Herlev copy, by class
    and name; raise ImportFormatError when `source` holds no class folder."""
    if not source.is_dir():
        raise ImportFormatError(
            "is not a folder; give the Herlev folder that holds the class folders "
            "(normal_superficiel, carcinoma_in_situ, ...)",
            source,
        )
    class_dirs = []
    for folder in sorted(path for path in source.iterdir() if path.is_dir()):
        cell_class = _class_of_folder(folder.name)
        if cell_class is not None:
            class_dirs.append((folder, cell_class))
        elif not folder.name.startswith("."):
            report.warn(folder, "is not a Herlev class folder; skipped")
    if not class_dirs:
        expected = ", ".join(c.name for c in HERLEV_CLASSES)
        raise ImportFormatError(
            f"holds no Herlev class folder; expected folders named {expected}",
            source,
        )

    order = {c.name: i for i, c in enumerate(HERLEV_CLASSES)}
    class_dirs.sort(key=lambda item: (order[item[1].name], item[0].name))
    samples = []
    for folder, cell_class in class_dirs:
        images: dict[str, Path] = {}
        masks: dict[str, Path] = {}
        for path in sorted(folder.iterdir()):
            lower = path.name.lower()
            if not path.is_file() or not lower.endswith(".bmp"):
                continue
            if lower.endswith(MASK_SUFFIX):
                masks[path.name[: -len(MASK_SUFFIX)]] = path
            else:
                images[path.stem] = path
        for name in sorted(images.keys() | masks.keys()):
            samples.append(
                HerlevSample(cell_class, name, images.get(name), masks.get(name))
            )
    return samples


def read_labels(path: Path) -> np.ndarray:
    """The palette indices of a Herlev mask; an RGB copy is mapped by colour, any
    other colour becoming unlabelled."""
    with Image.open(path) as mask:
        if mask.mode == "P":
            return np.asarray(mask).copy()
        rgb = np.asarray(mask.convert("RGB"))
    labels = np.zeros(rgb.shape[:2], dtype=np.uint8)
    for label, colour in LABEL_COLOURS.items():
        labels[np.all(rgb == colour, axis=-1)] = label
    return labels


def _touching(region: np.ndarray, other: np.ndarray) -> int:
    """Pixels of `region` with a 4-neighbour in `other`."""
    padded = np.pad(other, 1)
    beside = padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
    return int((region & beside).sum())


@dataclass(frozen=True)
class HerlevCell:
    """The outlines converted from one mask."""

    cytoplasm: np.ndarray
    nucleus: np.ndarray | None


def convert_mask(
    labels: np.ndarray, path: Path, report: ImportReport
) -> HerlevCell | None:
    """The cell and nucleus outlines of one Herlev mask, reporting what was imperfect;
    None when the mask holds no usable cell."""
    unknown = sorted(set(np.unique(labels).tolist()) - {*UNLABELLED, *LABEL_COLOURS})
    if unknown:
        report.warn(path, f"has unknown labels {unknown}; they are treated as border")

    nucleus_mask = labels == NUCLEUS
    cell_mask = nucleus_mask | (labels == CYTOPLASM)
    if not cell_mask.any():
        report.warn(path, "has no nucleus or cytoplasm pixels, so no cell; skipped")
        return None
    cell = trace_outline(cell_mask)
    if cell is None:
        report.warn(path, "holds no cell large enough to outline; skipped")
        return None
    if cell.pieces > 1:
        report.warn(
            path,
            f"the cell is in {cell.pieces} pieces; the largest is kept and "
            f"{cell.dropped_pixels} pixels of the others are left out",
        )
    if cell.holes:
        report.warn(
            path,
            f"the cell encloses {cell.holes} hole(s) of {cell.hole_pixels} "
            "background or unlabelled pixels; the outline counts them as cell",
        )
    touching = _touching(nucleus_mask, labels == BACKGROUND)
    if touching:
        report.warn(
            path,
            f"the nucleus touches the background on {touching} pixels (no "
            "cytoplasm between); the cell outline follows the nucleus there",
        )

    if not nucleus_mask.any():
        report.warn(path, "has no nucleus pixels; the cell is imported without one")
        return HerlevCell(cell.vertices, None)
    inside = nucleus_mask & rasterise(cell.vertices, labels.shape)
    outside = int((nucleus_mask & ~inside).sum())
    nucleus = trace_outline(inside)
    if nucleus is None:
        report.warn(
            path,
            "has no nucleus large enough to outline inside the cell; the cell is "
            "imported without one",
        )
        return HerlevCell(cell.vertices, None)
    if nucleus.pieces > 1:
        report.warn(
            path,
            f"the nucleus is in {nucleus.pieces} pieces; the largest is kept and "
            f"{nucleus.dropped_pixels} pixels of the others are left out",
        )
    if outside:
        report.warn(
            path,
            f"{outside} nucleus pixels lie outside the kept cell and are left out",
        )
    vertices = fit_inside(nucleus.vertices, cell.vertices)
    if vertices is None:
        report.warn(path, "the nucleus lies outside its cell; imported without one")
    return HerlevCell(cell.vertices, vertices)


def _image_size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def import_herlev(
    source: Path | str, destination: Path | str, progress: Progress | None = None
) -> ImportReport:
    """Convert a Herlev copy at `source` into a new SIPaKMeD-layout dataset at
    `destination`: one cropped cell per Herlev image, the seven Herlev classes."""
    source = Path(source).expanduser()
    destination = Path(destination).expanduser()
    report = ImportReport("herlev", source, destination)
    report.cells = {c.name: 0 for c in HERLEV_CLASSES}
    samples = find_samples(source, report)
    if not samples:
        raise ImportFormatError(
            "has Herlev class folders but no <name>.BMP images with <name>-d.bmp "
            "masks in them",
            source,
        )
    log.info("Importing %d Herlev cells from %r", len(samples), str(source))

    origins: dict[str, str] = {}
    numbers = {c.name: 0 for c in HERLEV_CLASSES}
    with staged_destination(destination) as root:
        for done, sample in enumerate(samples, start=1):
            converted = _convert_sample(sample, report)
            if converted is None:
                report.skipped += 1
            else:
                numbers[sample.cell_class.name] += 1
                number = numbers[sample.cell_class.name]
                key = _write_cell(root, sample, converted, number, report)
                origins[key] = sample.image.relative_to(source).as_posix()
            if progress is not None:
                progress(done, len(samples))
        settings = ProjectSettings(scheme=HERLEV_SCHEME, source="herlev")
        finish_project(root, settings, report, origins)
    log.info(
        "Imported Herlev into %r: %d cells, %d warnings",
        str(destination),
        report.cell_count,
        len(report.warnings),
    )
    return report


def _convert_sample(sample: HerlevSample, report: ImportReport) -> HerlevCell | None:
    if sample.mask is None:
        report.warn(sample.image, f"has no mask {sample.name}-d.bmp beside it; skipped")
        return None
    if sample.image is None:
        report.warn(sample.mask, f"has no image {sample.name}.BMP beside it; skipped")
        return None
    try:
        labels = read_labels(sample.mask)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        report.warn(sample.mask, f"cannot be read as a mask ({error}); skipped")
        return None
    size = _image_size(sample.image)
    if size is None:
        report.warn(sample.image, "cannot be read as an image; skipped")
        return None
    if size != (labels.shape[1], labels.shape[0]):
        report.warn(
            sample.mask,
            f"is {labels.shape[1]}x{labels.shape[0]} pixels but its image is "
            f"{size[0]}x{size[1]}; skipped",
        )
        return None
    return convert_mask(labels, sample.mask, report)


def _write_cell(
    root: Path,
    sample: HerlevSample,
    converted: HerlevCell,
    number: int,
    report: ImportReport,
) -> str:
    """Write one cell as `CROPPED/NNN_01.bmp` with its `.dat` outlines; return the
    image's path below `root`."""
    cell_class = sample.cell_class
    cropped = root / cell_class.folder / cell_class.folder / "CROPPED"
    stem = f"{number:03d}_01"
    image_path = cropped / f"{stem}.bmp"
    _copy_image(sample.image, image_path)
    write_outline(cropped / f"{stem}_cyt.dat", converted.cytoplasm)
    if converted.nucleus is not None:
        write_outline(cropped / f"{stem}_nuc.dat", converted.nucleus)
        report.nuclei += 1
    report.images += 1
    report.cells[cell_class.name] += 1
    return image_path.relative_to(root).as_posix()


def _copy_image(source: Path, target: Path) -> None:
    """Copy the BMP byte for byte: the pixels the outlines were drawn on."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    except OSError as error:
        raise SaveError(
            f"cannot be copied to {target}: {error.strerror}",
            source,
            "check that the destination is writable and the disk is not full",
        ) from None
