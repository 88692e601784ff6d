"""Opening what the user points at, off the GUI thread: a SIPaKMeD dataset folder,
or a single image or slide (with the cells stored beside it), from the File
menu, the command line, the recent list or a drop on the window."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from cervix_gui.workers import Job, start_job
from engine.annotations import Dataset
from engine.errors import CervixError
from engine.images.slide_cells import open_single_image
from engine.images.synth_slide import is_synthetic_slide

log = logging.getLogger(__name__)


IMAGE_SUFFIXES = (".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
SLIDE_SUFFIXES = (".svs", ".ndpi", ".mrxs", ".scn", ".vms", ".vmu", ".bif")
IMAGE_FILTER = (
    "Images and slides ("
    + " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES + SLIDE_SUFFIXES)
    + ");;All files (*)"
)


def what_is_opened(path: Path) -> str:
    """What `path` is, in a user's words: "dataset folder", "slide", "image", or
    "file or folder" when it is missing and its name does not tell."""
    path = Path(path)
    if path.is_dir():
        return "dataset folder"
    suffix = path.suffix.lower()
    if suffix in SLIDE_SUFFIXES:
        return "slide"
    if suffix in IMAGE_SUFFIXES or path.is_file():
        return "image"
    return "file or folder"


def open_anything(path: Path):
    """A Dataset for a folder, an ImageRecord for an image or slide file (its
    cells are read afterwards, so a slide shows at once)."""
    path = Path(path)
    if not path.exists():
        what = what_is_opened(path)
        noun = what if what == "file or folder" else f"{what} file"
        raise CervixError(
            f"no such {noun}", path, "check the path, or whether it was moved"
        )
    if path.is_dir():
        return Dataset.open(path)
    return open_single_image(path, with_cells=False)


def _open_and_inspect(path: Path):
    """`open_anything(path)`, and whether it is a synthetic slide."""
    opened = open_anything(path)
    synthetic = not isinstance(opened, Dataset) and is_synthetic_slide(Path(path))
    return opened, synthetic


class Opener(QObject):
    """Opens one path at a time and reports what it opened, or why it could not."""

    opened = Signal(object, object)  # path, Dataset or ImageRecord
    failed = Signal(object, str)  # path, message for the user

    def __init__(self, parent=None):
        super().__init__(parent)
        self._job: Job | None = None
        self.path: Path | None = None
        # Whether the image or slide opened last says it was drawn by Cervix
        # Studio; set before `opened` is emitted.
        self.synthetic_slide = False

    def busy(self) -> bool:
        return self._job is not None

    def open(self, path: Path) -> None:
        """Start opening `path`; the answer comes through `opened` or `failed`."""
        path = Path(path).expanduser()
        self.path = path
        log.info("Opening %s", path)
        self._job = start_job(
            _open_and_inspect,
            path,
            on_finished=lambda result: self._done(path, result),
            on_failed=lambda message: self._failed(path, message),
        )

    def _done(self, path: Path, result) -> None:
        if path != self.path:
            return  # something else was asked for meanwhile
        self._job = None
        opened, self.synthetic_slide = result
        self.opened.emit(path, opened)

    def _failed(self, path: Path, message: str) -> None:
        if path != self.path:
            return
        self._job = None
        self.failed.emit(path, message)
