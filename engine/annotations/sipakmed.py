"""Finding SIPaKMeD's files on disk: class folders, cluster images, cropped cells.

Layout: `im_<Class>/im_<Class>/NNN.bmp` with `NNN_cytKK.dat` and `NNN_nucKK.dat`
per cell, and isolated cells in `CROPPED/NNN_KK.bmp` with `NNN_KK_cyt.dat` and
`NNN_KK_nuc.dat`. Some copies name the inner folder `<Class>`; both are accepted,
and so are images placed directly in the class folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.annotations.cells import ImageKind
from engine.annotations.classes import CellClass, ClassScheme

IMAGE_SUFFIXES = (".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
CLUSTER_DAT = re.compile(r"^(?P<stem>.+?)_(?P<part>cyt|nuc)(?P<index>\d+)\.dat$", re.I)
CROPPED_DAT = re.compile(r"^(?P<stem>.+?)_(?P<part>cyt|nuc)\.dat$", re.I)
CROPPED_STEM = re.compile(r"^(?P<image>.+)_(?P<index>\d+)$")


def cluster_dat_name(stem: str, part: str, index: int, width: int = 2) -> str:
    return f"{stem}_{part}{index:0{width}d}.dat"


def cropped_dat_name(stem: str, part: str) -> str:
    return f"{stem}_{part}.dat"


@dataclass
class CellFiles:
    """The `.dat` files of one cell as found on disk."""

    index: int
    cytoplasm: Path | None = None
    nucleus: Path | None = None


@dataclass
class FoundImage:
    """An image file (or a stem with orphan `.dat` files) and its cells' files."""

    key: str
    folder_class: CellClass
    kind: ImageKind
    stem: str
    directory: Path
    image_path: Path | None = None
    cells: dict[int, CellFiles] = field(default_factory=dict)
    index_width: int = 2


def find_class_folders(root: Path, scheme: ClassScheme) -> list[tuple[Path, CellClass]]:
    """The class folders directly below `root`, in the scheme's order."""
    found = []
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return []
    for entry in entries:
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        cell_class = scheme.by_folder(entry.name)
        if cell_class is not None:
            found.append((Path(entry.path), cell_class))
    order = {c.name: i for i, c in enumerate(scheme.classes)}
    found.sort(key=lambda item: order[item[1].name])
    return found


def _image_dirs(class_dir: Path, cell_class: CellClass) -> list[Path]:
    """The folders of a class that hold cluster images: inner folder(s) or itself."""
    bare = cell_class.folder.removeprefix("im_").lower()
    inner_names = {cell_class.folder.lower(), bare, f"im_{bare}", cell_class.name}
    inner = [
        Path(entry.path)
        for entry in os.scandir(class_dir)
        if entry.is_dir() and entry.name.lower() in inner_names
    ]
    return sorted(inner) + [class_dir]


def _scan_files(directory: Path) -> list[str]:
    try:
        return sorted(
            entry.name
            for entry in os.scandir(directory)
            if entry.is_file() and not entry.name.startswith(".")
        )
    except OSError:
        return []


def _collect(
    directory: Path,
    cell_class: CellClass,
    key_prefix: str,
    kind: ImageKind,
    found: dict[str, FoundImage],
) -> None:
    for name in _scan_files(directory):
        lower = name.lower()
        if lower.endswith(IMAGE_SUFFIXES):
            stem = name.rsplit(".", 1)[0]
            record = _record(found, key_prefix, stem, cell_class, kind, directory)
            if record.image_path is None or lower.endswith(".bmp"):
                record.image_path = directory / name
            continue
        if not lower.endswith(".dat"):
            continue
        if kind is ImageKind.CLUSTER:
            match = CLUSTER_DAT.match(name)
            if match is None:
                continue
            stem, index = match["stem"], int(match["index"])
            record = _record(found, key_prefix, stem, cell_class, kind, directory)
            record.index_width = len(match["index"])
        else:
            match = CROPPED_DAT.match(name)
            stem_match = CROPPED_STEM.match(match["stem"]) if match else None
            if match is None or stem_match is None:
                continue
            stem, index = match["stem"], int(stem_match["index"])
            record = _record(found, key_prefix, stem, cell_class, kind, directory)
        files = record.cells.setdefault(index, CellFiles(index))
        if match["part"].lower() == "cyt":
            files.cytoplasm = directory / name
        else:
            files.nucleus = directory / name


def _record(found, key_prefix, stem, cell_class, kind, directory) -> FoundImage:
    key = f"{key_prefix}/{stem}"
    if key not in found:
        found[key] = FoundImage(key, cell_class, kind, stem, directory)
    return found[key]


def scan_layout(root: Path, scheme: ClassScheme) -> list[FoundImage]:
    """Every image and cell file of a SIPaKMeD-style dataset below `root`."""
    found: dict[str, FoundImage] = {}
    for class_dir, cell_class in find_class_folders(root, scheme):
        class_key = class_dir.name
        for directory in _image_dirs(class_dir, cell_class):
            _collect(directory, cell_class, class_key, ImageKind.CLUSTER, found)
            cropped = directory / "CROPPED"
            if cropped.is_dir():
                key = f"{class_key}/CROPPED"
                _collect(cropped, cell_class, key, ImageKind.CROPPED, found)
    return list(found.values())
