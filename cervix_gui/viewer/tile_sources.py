"""Tile providers over an `ImageSource`: the image itself, the U-Net mask in
translucent colours, and a Grad-CAM heatmap; all read through the bounded
tile cache, in worker threads."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

from cervix_gui.viewer.tiles import TileProvider
from engine.images import CachedTileReader, ImageSource, TileCache

# The U-Net mask: whole cells in cyan, nuclei in magenta, each as translucent as
# the model is unsure, so certain regions stand out and doubt fades.
CELL_RGB = (0, 190, 255)
NUCLEUS_RGB = (255, 40, 200)
CELL_MAX_ALPHA = 0.45
NUCLEUS_MAX_ALPHA = 0.7
HEATMAP_MAX_ALPHA = 0.65


def rgb_image(pixels: np.ndarray) -> QImage:
    """An opaque QImage (RGB32, quick to draw) that owns a copy of RGB pixels."""
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_RGB32)


def rgba_image(pixels: np.ndarray) -> QImage:
    """A translucent QImage that owns a copy of premultiplied RGBA pixels."""
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    image = QImage(
        pixels.data,
        width,
        height,
        pixels.strides[0],
        QImage.Format.Format_RGBA8888_Premultiplied,
    )
    return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def colour_mask(
    pixels: np.ndarray, cell_rgb=CELL_RGB, nucleus_rgb=NUCLEUS_RGB
) -> np.ndarray:
    """Premultiplied RGBA of a mask tile: red = cell, green = nucleus probability,
    shown in `cell_rgb` and `nucleus_rgb`."""
    cell = pixels[..., 0].astype(np.float32) / 255.0 * CELL_MAX_ALPHA
    nucleus = pixels[..., 1].astype(np.float32) / 255.0 * NUCLEUS_MAX_ALPHA
    out = np.empty(pixels.shape[:2] + (4,), dtype=np.float32)
    for channel in range(3):
        # The nucleus over the cell, "source over" with premultiplied colour.
        out[..., channel] = nucleus_rgb[channel] * nucleus + cell_rgb[
            channel
        ] * cell * (1.0 - nucleus)
    out[..., 3] = 255.0 * (nucleus + cell * (1.0 - nucleus))
    return np.clip(out, 0, 255).astype(np.uint8)


def colour_heatmap(pixels: np.ndarray) -> np.ndarray:
    """Premultiplied RGBA of a heatmap tile (red channel, 0-255): a colour scale
    from blue to red whose opacity grows with the value, so zero is clear."""
    values = np.ascontiguousarray(pixels[..., 0])
    colours = cv2.applyColorMap(values, cv2.COLORMAP_JET)[..., ::-1]  # BGR -> RGB
    alpha = values.astype(np.float32) / 255.0 * HEATMAP_MAX_ALPHA
    out = np.empty(values.shape + (4,), dtype=np.uint8)
    out[..., :3] = (colours.astype(np.float32) * alpha[..., None]).astype(np.uint8)
    out[..., 3] = (alpha * 255.0).astype(np.uint8)
    return out


class SourceTiles(TileProvider):
    """The tiles of an image source's own pyramid, coloured by `kind` (image,
    mask or heatmap), read through a shared bounded cache. A mask is drawn in
    `mask_colours` (cell RGB, nucleus RGB) when given."""

    def __init__(
        self,
        source: ImageSource,
        cache: TileCache,
        kind: str = "image",
        shown_size: tuple[float, float] | None = None,
        mask_colours: tuple[tuple, tuple] | None = None,
    ):
        self.source = source
        self.mask_colours = mask_colours or (CELL_RGB, NUCLEUS_RGB)
        # A model's raster may be coarser than its image; it is stretched over it.
        self._shown_size = shown_size
        self.reader = CachedTileReader(source, cache)
        self.kind = kind
        self.key = (kind, source.source_id)
        self._levels = source.levels

    def size(self) -> tuple[float, float]:
        if self._shown_size is not None:
            return self._shown_size
        width, height = self.source.size
        return float(width), float(height)

    def level_count(self) -> int:
        return len(self._levels)

    def level_size(self, level: int) -> tuple[int, int]:
        return self._levels[level].width, self._levels[level].height

    def tile_size(self) -> int:
        return self.reader.tile_size

    def level_for_zoom(self, zoom: float) -> int:
        # `zoom` is in screen pixels per image pixel; a stretched raster has
        # fewer pixels of its own per image pixel.
        own_zoom = zoom * self.size()[0] / self._levels[0].width
        return self.source.level_for_downsample(1.0 / max(own_zoom, 1e-9))

    def render(self, level: int, tile_x: int, tile_y: int) -> QImage:
        pixels = self.reader.read_tile(level, tile_x, tile_y)
        if self.kind == "mask":
            return rgba_image(colour_mask(pixels, *self.mask_colours))
        if self.kind == "heatmap":
            return rgba_image(colour_heatmap(pixels))
        return rgb_image(pixels)
