"""Reading image pixels for the viewer: the one place the window touches image files.

The viewer asks for an image and is told by signal when its pixels are ready or
why they are not, so the reading can move to a worker (and to tiles) without
the viewer changing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from engine.annotations import ImageFileError
from engine.errors import CervixError

log = logging.getLogger(__name__)


def read_rgb(path: Path) -> np.ndarray:
    """The whole image as height x width x 3 RGB bytes; grey images become RGB."""
    try:
        # imdecode over the file's bytes, because imread cannot open
        # non-ASCII paths on Windows.
        encoded = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise ImageFileError(
            f"cannot be read: {error.strerror or error}", path
        ) from error
    pixels = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if encoded.size else None
    if pixels is None:
        raise ImageFileError(
            "is damaged or not an image OpenCV can read; its outlines are shown "
            "without it",
            path,
        )
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


def rgb_to_qimage(pixels: np.ndarray) -> QImage:
    """A QImage that owns a copy of the RGB pixels."""
    pixels = np.ascontiguousarray(pixels)
    height, width, _ = pixels.shape
    image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format_RGB888)
    return image.copy()


class ImageLoader(QObject):
    """Loads an image's pixels on request and reports them, or the reason it failed.

    Not yet: the file is read on the GUI thread, which is fine for cluster
    images of a few megabytes but not for slides.
    """

    loaded = Signal(str, QImage)  # image key, pixels
    failed = Signal(str, str)  # image key, message for the user

    def request(self, key: str, path: Path) -> None:
        """Read the image `key` from `path`; answers with `loaded` or `failed`."""
        try:
            image = rgb_to_qimage(read_rgb(path))
        except CervixError as error:
            log.warning("Image %r not shown: %s", key, error.user_message())
            self.failed.emit(key, error.user_message())
            return
        log.debug("Loaded image %r (%dx%d)", key, image.width(), image.height())
        self.loaded.emit(key, image)
