"""What the dataset importers share: the import report, a destination folder that
appears only once the import is complete, and writing cells in SIPaKMeD form.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.annotations.datfile import DEFAULT_STYLE, format_dat
from engine.annotations.project import (
    ProjectFolder,
    ProjectSettings,
    atomic_write_json,
    now_iso,
)
from engine.errors import CervixError, SaveError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# The longest list of warnings printed; the rest are in `.cervix/import.json`.
PRINTED_WARNINGS = 50


class DestinationNotEmptyError(CervixError):
    """An import was asked to write into a folder that already holds files."""


@dataclass(frozen=True)
class ImportWarning:
    """Something imperfect in the source that the import worked around."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_json(self) -> dict:
        return {"path": str(self.path), "message": self.message}


@dataclass
class ImportReport:
    """What an import of a public dataset wrote, and what it had to work around."""

    source_format: str
    source: Path
    destination: Path
    images: int = 0
    cells: dict[str, int] = field(default_factory=dict)  # per class, every class
    nuclei: int = 0
    skipped: int = 0  # masks or cells that gave no cell at all
    warnings: list[ImportWarning] = field(default_factory=list)

    def warn(self, path: Path, message: str) -> None:
        self.warnings.append(ImportWarning(Path(path), message))
        log.debug("Import warning: %s: %s", path, message)

    @property
    def cell_count(self) -> int:
        return sum(self.cells.values())

    def describe(self) -> str:
        """The report as a person reads it on the command line."""
        lines = [
            f"Imported {self.source_format} from {self.source} into {self.destination}",
            f"{self.images} images, {self.cell_count} cells, {self.nuclei} with a "
            f"nucleus, {self.skipped} skipped",
        ]
        width = max((len(name) for name in self.cells), default=5)
        lines.append(f"{'class':<{width}}  {'cells':>6}")
        lines.extend(f"{name:<{width}}  {n:>6}" for name, n in self.cells.items())
        if self.warnings:
            lines.append(f"{len(self.warnings)} warnings:")
            lines.extend(f"  {warning}" for warning in self.warnings[:PRINTED_WARNINGS])
            hidden = len(self.warnings) - PRINTED_WARNINGS
            if hidden > 0:
                record = self.destination / ".cervix" / "import.json"
                lines.append(f"  ... and {hidden} more, all listed in {record}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "format": self.source_format,
            "source": str(self.source),
            "destination": str(self.destination),
            "images": self.images,
            "cells": dict(self.cells),
            "nuclei": self.nuclei,
            "skipped": self.skipped,
            "warnings": [warning.to_json() for warning in self.warnings],
        }


def check_destination(destination: Path) -> None:
    """Refuse a destination that exists and is not an empty folder."""
    if not destination.exists():
        return
    if not destination.is_dir():
        raise DestinationNotEmptyError(
            "exists and is not a folder",
            destination,
            "choose a new folder for the imported dataset",
        )
    if any(destination.iterdir()):
        raise DestinationNotEmptyError(
            "already holds files; an import never writes over them",
            destination,
            "choose a new or empty folder for the imported dataset",
        )


@contextlib.contextmanager
def staged_destination(destination: Path) -> Iterator[Path]:
    """A hidden folder beside `destination` to write into, renamed to `destination`
    when the block ends without error and removed when it fails, so a failed or
    interrupted import never leaves half a dataset behind."""
    destination = Path(destination).expanduser().absolute()
    check_destination(destination)
    staging = destination.with_name(f".{destination.name}.importing-{os.getpid()}")
    try:
        staging.mkdir(parents=True)
    except OSError as error:
        raise SaveError(
            f"cannot create the import folder: {error.strerror}",
            staging,
            "check that the place is writable and the disk is not full",
        ) from None
    try:
        yield staging
        check_destination(destination)
        if destination.exists():
            destination.rmdir()
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_file(path: Path, data: bytes) -> None:
    """Write one file of the imported dataset, creating its folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as error:
        raise SaveError(
            f"cannot be written: {error.strerror}",
            path,
            "check that the place is writable and the disk is not full",
        ) from None


def write_outline(path: Path, vertices: np.ndarray) -> None:
    """Write a `.dat` outline in whole pixels, the style of the hand-made files."""
    write_file(path, format_dat(vertices, DEFAULT_STYLE))


def finish_project(
    root: Path, settings: ProjectSettings, report: ImportReport, origins: dict
) -> None:
    """Write `project.json` and `import.json`: where each image came from, and the
    report, so both can be read again after the terminal is closed."""
    ProjectFolder(root).save_settings(settings)
    record = report.to_json()
    record["when"] = now_iso()
    record["origins"] = origins
    atomic_write_json(root / ".cervix" / "import.json", record)
