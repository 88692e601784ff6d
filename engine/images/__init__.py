"""Image sources and tiles: every image the viewer shows and the models read.

`open_image(path)` returns an `ImageSource` for an ordinary image, a pyramidal
TIFF, OME-TIFF or SVS, or (with OpenSlide installed) another slide format;
`TileCache` and `CachedTileReader` keep recently read tiles within a byte budget.
"""

from engine.images.cache import CachedTileReader, CacheStats, TileCache
from engine.images.errors import (
    BackendMissingError,
    CorruptImageError,
    EmptyImageFileError,
    ImageNotFoundError,
    ImageSourceError,
    RegionError,
    UnsupportedImageError,
)
from engine.images.opener import open_image
from engine.images.source import ImageSource, Level

__all__ = [
    "BackendMissingError",
    "CacheStats",
    "CachedTileReader",
    "CorruptImageError",
    "EmptyImageFileError",
    "ImageNotFoundError",
    "ImageSource",
    "ImageSourceError",
    "Level",
    "RegionError",
    "TileCache",
    "UnsupportedImageError",
    "open_image",
]
