"""Typed errors of the image layer: each names the file and what to do about it."""

from __future__ import annotations

from engine.errors import CervixError


class ImageSourceError(CervixError):
    """An image that cannot be opened or read as asked."""


class ImageNotFoundError(ImageSourceError):
    """The path names no file."""


class EmptyImageFileError(ImageSourceError):
    """The file has zero bytes, so it holds no image."""


class CorruptImageError(ImageSourceError):
    """The file is truncated or damaged, or is not the format its name claims."""


class UnsupportedImageError(ImageSourceError):
    """A format, compression or pixel layout this installation cannot read."""


class BackendMissingError(UnsupportedImageError):
    """The format needs an optional package that is not installed."""


class RegionError(ImageSourceError):
    """A requested region that does not overlap the image, or a bad level."""
