"""Writing a synthetic dataset in SIPaKMeD's layout, with its project folder.

Each class folder gets cluster images `NNN.bmp` with one `NNN_cytKK.dat` and
`NNN_nucKK.dat` per cell, and, when asked, every cell cut out into
`CROPPED/NNN_KK.bmp` with its outlines in the crop's own pixels.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np

from engine.annotations.classes import SIPAKMED_CLASSES, ClassScheme
from engine.annotations.datfile import DatStyle, format_dat
from engine.annotations.project import ProjectFolder, ProjectSettings
from engine.errors import CervixError, SaveError
from engine.synthetic.render import SyntheticCell, draw_cluster_image
from engine.synthetic.shapes import DECIMALS, round_vertices

log = logging.getLogger(__name__)

DAT_STYLE = DatStyle(decimals=DECIMALS)

README_TEXT = """\
SYNTHETIC SAMPLE - NOT REAL PATIENT CELLS

Every image in this folder was drawn by Cervix Studio's own code (`cervix synth`)
from random numbers (seed {seed}). No cell here comes from a person, and nothing
here may be used for diagnosis or to judge how well a model works on real smears.

It uses the SIPaKMeD layout: one folder per class, cluster images NNN.bmp with
one NNN_cytKK.dat (whole cell) and NNN_nucKK.dat (nucleus) outline per cell, and
isolated cells in CROPPED/. It exists so that the application, its tests and its
training code have data to run on without any download.

Classes: {classes}. Images per class: {images_per_class}. Cells: {cells}.
"""


def make_dataset(
    out: Path,
    images_per_class: int = 4,
    seed: int = 0,
    image_size: tuple[int, int] = (512, 384),
    cropped: bool = True,
    *,
    overwrite: bool = False,
) -> Path:
    """Draw a synthetic SIPaKMeD dataset into `out` and return its folder.

    The same seed gives the same bytes. `out` must be missing or empty; with
    `overwrite`, an earlier synthetic sample there is replaced, never anything else.
    """
    out = Path(out).expanduser()
    if images_per_class < 1:
        raise ValueError("images_per_class must be at least 1")
    if seed < 0:
        raise ValueError("seed must be 0 or more")
    _prepare_folder(out, overwrite)
    scheme = ClassScheme(SIPAKMED_CLASSES)
    total_cells = 0
    for class_index, cell_class in enumerate(scheme.classes):
        image_dir = out / cell_class.folder / cell_class.folder
        image_dir.mkdir(parents=True, exist_ok=True)
        for image_index in range(images_per_class):
            # One generator per image: an image does not change when others are added.
            rng = np.random.default_rng([seed, class_index, image_index])
            image, cells = draw_cluster_image(rng, cell_class.name, image_size)
            stem = f"{image_index + 1:03d}"
            _write_cluster(image_dir, stem, image, cells)
            if cropped:
                _write_crops(image_dir / "CROPPED", stem, image, cells)
            total_cells += len(cells)

    folder = ProjectFolder(out)
    folder.save_settings(
        ProjectSettings(
            scheme=scheme,
            synthetic=True,
            source="synthetic",
            settings={
                "seed": seed,
                "images_per_class": images_per_class,
                "image_size": list(image_size),
                "cropped": cropped,
            },
        )
    )
    readme = README_TEXT.format(
        seed=seed,
        classes=", ".join(scheme.names),
        images_per_class=images_per_class,
        cells=total_cells,
    )
    _write_bytes(out / "README.txt", readme.encode("utf-8"))
    log.info(
        "Drew a synthetic dataset in %r: %d images, %d cells (seed %d)",
        str(out),
        images_per_class * len(scheme.classes),
        total_cells,
        seed,
    )
    return out


def _prepare_folder(out: Path, overwrite: bool) -> None:
    """Refuse to mix the sample into other files; clear an old sample if allowed."""
    if out.exists() and not out.is_dir():
        raise CervixError("is a file, not a folder", out, "choose a new folder")
    if not out.exists() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        return
    settings = _existing_settings(out)
    if not overwrite or settings is None or not settings.synthetic:
        raise CervixError(
            "is not empty",
            out,
            "choose a new folder"
            + (
                ", or pass --overwrite to replace the synthetic sample there"
                if settings is not None and settings.synthetic
                else ""
            ),
        )
    for cell_class in settings.scheme.classes:
        _remove_tree(out / cell_class.folder)


def _existing_settings(out: Path) -> ProjectSettings | None:
    try:
        return ProjectFolder(out).load_settings()
    except CervixError:
        return None


def _remove_tree(folder: Path) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()
    folder.rmdir()


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise SaveError(
            f"could not be written: {error.strerror}",
            path,
            "check that the folder is writable and the disk is not full",
        ) from error


def _write_image(path: Path, image_rgb: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".bmp", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise SaveError("could not be encoded as BMP", path)
    _write_bytes(path, encoded.tobytes())


def _write_cluster(
    directory: Path, stem: str, image: np.ndarray, cells: list[SyntheticCell]
) -> None:
    _write_image(directory / f"{stem}.bmp", image)
    for index, cell in enumerate(cells, start=1):
        _write_bytes(
            directory / f"{stem}_cyt{index:02d}.dat",
            format_dat(cell.cytoplasm, DAT_STYLE),
        )
        _write_bytes(
            directory / f"{stem}_nuc{index:02d}.dat",
            format_dat(cell.nucleus, DAT_STYLE),
        )


def crop_box(
    cell: SyntheticCell, image_size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the cell and a margin of its surroundings, inside the image."""
    width, height = image_size
    x_min, y_min, x_max, y_max = cell.bounds
    margin = max(4.0, 0.12 * max(x_max - x_min, y_max - y_min))
    x0 = max(int(math.floor(x_min - margin)), 0)
    y0 = max(int(math.floor(y_min - margin)), 0)
    x1 = min(int(math.ceil(x_max + margin)) + 1, width)
    y1 = min(int(math.ceil(y_max + margin)) + 1, height)
    return x0, y0, x1, y1


def _write_crops(
    directory: Path, stem: str, image: np.ndarray, cells: list[SyntheticCell]
) -> None:
    directory.mkdir(exist_ok=True)
    height, width = image.shape[:2]
    for index, cell in enumerate(cells, start=1):
        x0, y0, x1, y1 = crop_box(cell, (width, height))
        name = f"{stem}_{index:02d}"
        _write_image(directory / f"{name}.bmp", image[y0:y1, x0:x1])
        offset = np.array([x0, y0], dtype=np.float64)
        cytoplasm = round_vertices(cell.cytoplasm - offset)
        nucleus = round_vertices(cell.nucleus - offset)
        _write_bytes(directory / f"{name}_cyt.dat", format_dat(cytoplasm, DAT_STYLE))
        _write_bytes(directory / f"{name}_nuc.dat", format_dat(nucleus, DAT_STYLE))
