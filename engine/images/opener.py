"""Open any supported image with the backend that suits its content and name."""

from __future__ import annotations

import logging
from pathlib import Path

import tifffile

from engine.images.errors import (
    CorruptImageError,
    EmptyImageFileError,
    ImageNotFoundError,
    ImageSourceError,
    UnsupportedImageError,
)
from engine.images.opencv_source import OpenCVSource
from engine.images.openslide_source import OPENSLIDE_FORMATS, OpenSlideSource
from engine.images.source import ImageSource
from engine.images.tiff_source import (
    READ_ERRORS,
    TIFF_OPENING,
    TiffSource,
    is_tiled_or_pyramidal,
)

log = logging.getLogger(__name__)

TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
OPENCV_MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM")
TIFF_EXTENSIONS = {".tif", ".tiff", ".svs", ".btf", ".tf8", ".tf2"}
# Formats OpenCV decodes that have no magic checked here.
OPENCV_EXTENSIONS = {".bmp", ".dib", ".png", ".jpg", ".jpeg", ".jpe", ".webp", ".jp2"}

SUPPORTED = "BMP, PNG, JPEG, TIFF, OME-TIFF, SVS; with OpenSlide also " + ", ".join(
    extension.lstrip(".").upper() for extension in OPENSLIDE_FORMATS
)


def open_image(path: Path | str) -> ImageSource:
    """Open an image for reading by region; close it (or use `with`) when done.

    Raises an ImageSourceError subclass that names the file and what to do
    for a missing, empty, damaged or unsupported file.
    """
    path = Path(path)
    extension = path.suffix.lower()
    magic = _read_magic(path)

    if extension in OPENSLIDE_FORMATS:
        return OpenSlideSource(path)
    if magic.startswith(TIFF_MAGICS):
        return _open_tiff(path)
    if extension in TIFF_EXTENSIONS:
        raise CorruptImageError(
            f"the file is not a TIFF file, although its name ends in {extension}",
            path,
            "it is damaged or misnamed; copy or export it again",
        )
    if magic.startswith(OPENCV_MAGICS) or extension in OPENCV_EXTENSIONS:
        return OpenCVSource(path)
    raise UnsupportedImageError(
        "this is not an image format Cervix Studio reads",
        path,
        f"supported formats: {SUPPORTED}",
    )


def _read_magic(path: Path) -> bytes:
    """The first bytes of the file, after checking that it exists and has any."""
    if not path.exists():
        raise ImageNotFoundError(
            "no such file", path, "check the path, or whether the file was moved"
        )
    if path.is_dir():
        raise ImageSourceError("this is a folder, not an image file", path)
    try:
        with path.open("rb") as file:
            magic = file.read(16)
    except OSError as error:
        raise ImageSourceError(
            f"cannot read the file: {error.strerror or error}",
            path,
            "check that you may read it",
        ) from error
    if not magic:
        raise EmptyImageFileError(
            "the file is empty (0 bytes)",
            path,
            "it was not copied or saved completely; copy or export it again",
        )
    return magic


def _open_tiff(path: Path) -> ImageSource:
    """A tiled or pyramidal TIFF through tifffile, a plain one through OpenCV."""
    with TIFF_OPENING:
        tiff = _open_tifffile(path)
        if tiff is None:
            return OpenCVSource(path)
        return TiffSource(path, tiff)


def _open_tifffile(path: Path) -> tifffile.TiffFile | None:
    """The open TiffFile of a tiled or pyramidal TIFF; None for a plain one."""
    try:
        tiff = tifffile.TiffFile(path)
    except READ_ERRORS as error:
        raise CorruptImageError(
            f"not a readable TIFF file: {error}",
            path,
            "the file may be truncated or damaged; copy or export it again",
        ) from error
    try:
        tiled = is_tiled_or_pyramidal(tiff)
    except READ_ERRORS as error:
        tiff.close()
        raise CorruptImageError(
            f"the TIFF file's structure is damaged: {error}",
            path,
            "copy or export it again",
        ) from error
    if tiled:
        return tiff
    tiff.close()
    return None
