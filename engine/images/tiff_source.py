"""Tiled and pyramidal TIFF, OME-TIFF and Aperio SVS, read tile by tile.

tifffile exposes each pyramid level as a Zarr array whose chunks are the
file's tiles; indexing it decodes only the tiles a region touches, so a whole
slide never has to fit in memory. imagecodecs supplies the JPEG and JPEG 2000
decoders that scanners use.
"""

from __future__ import annotations

import logging
import re
import struct
import threading
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import tifffile
import zarr

from engine.images.errors import (
    CorruptImageError,
    ImageSourceError,
    UnsupportedImageError,
)
from engine.images.source import DEFAULT_TILE_SIZE, ImageSource, Level, to_rgb
from engine.images.tiff_tiles import open_direct_levels

log = logging.getLogger(__name__)

# What tifffile, zarr and imagecodecs raise for a file whose bytes are wrong;
# each is turned into a CorruptImageError that names the file.
READ_ERRORS = (
    tifffile.TiffFileError,
    ValueError,
    KeyError,
    IndexError,
    RuntimeError,
    OSError,
    EOFError,
    struct.error,
)

# Micrometres per unit of OME's PhysicalSizeXUnit.
OME_UNITS = {"µm": 1.0, "um": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6}

# A TIFF resolution tag is taken as a microscope's pixel size only below this:
# ordinary images carry 72 or 300 dpi (85-350 µm a pixel), which is not one.
MAX_PLAUSIBLE_MPP = 50.0


def is_tiled_or_pyramidal(tiff: tifffile.TiffFile) -> bool:
    """Whether a TIFF should be read tile by tile rather than decoded whole."""
    if not tiff.series:
        return False
    series = tiff.series[0]
    return bool(
        tiff.is_ome or tiff.is_svs or len(series.levels) > 1 or series.keyframe.is_tiled
    )


# tifffile fills many attributes on first use through functools.cached_property,
# whose lock (before Python 3.12) is one per attribute for all files. A full
# test run hung once with two threads opening slides at once (the window's
# opener and its measuring job), both inside such locks, so TIFF files are
# opened, and their structure read, one at a time. Reading tiles afterwards
# mostly finds those values cached.
TIFF_OPENING = threading.RLock()


class TiffSource(ImageSource):
    """A TIFF read through tifffile's Zarr store, one level per Zarr array."""

    def __init__(self, path: Path | str, tiff: tifffile.TiffFile | None = None):
        super().__init__(path)
        with TIFF_OPENING:
            self._open(tiff)

    def _open(self, tiff: tifffile.TiffFile | None) -> None:
        try:
            self._tiff = tiff if tiff is not None else tifffile.TiffFile(self.path)
        except READ_ERRORS as error:
            raise _not_readable(self.path, error) from error
        try:
            self._open_levels()
        except READ_ERRORS as error:
            self._tiff.close()
            raise _not_readable(self.path, error) from error
        except ImageSourceError:
            self._tiff.close()
            raise
        log.debug(
            "opened %r with tifffile: %s, %d levels, %s",
            str(self.path),
            self.format_name,
            len(self._levels),
            self._compression,
        )

    def _open_levels(self) -> None:
        tiff = self._tiff
        if not tiff.series:
            raise CorruptImageError(
                "the TIFF file holds no image", self.path, "export it again"
            )
        series = tiff.series[0]
        keyframe = series.keyframe
        self._axes = series.axes
        extra_axes = {
            axis: length
            for axis, length in zip(series.axes, series.shape, strict=True)
            if axis not in "YXS" and length > 1
        }
        if extra_axes:
            raise UnsupportedImageError(
                f"images with more than one plane ({extra_axes}) are not supported",
                self.path,
                "export one RGB plane of the image",
            )
        compression = keyframe.compression
        if compression != 1 and compression not in tifffile.TIFF.DECOMPRESSORS:
            raise UnsupportedImageError(
                f"its tiles use a compression this installation cannot decode "
                f"({_compression_name(compression)})",
                self.path,
                "convert it to a JPEG- or deflate-compressed pyramidal TIFF, "
                "or update imagecodecs",
            )
        if keyframe.dtype is None:
            raise UnsupportedImageError(
                f"its pixel type is not supported ({keyframe.bitspersample}-bit, "
                f"sample format {keyframe.sampleformat})",
                self.path,
                "convert it to 8-bit RGB",
            )
        self._check_complete(series)

        self._store = series.aszarr(multiscales=True)
        group = zarr.open_group(self._store, mode="r")
        self._arrays = [group[str(index)] for index in range(len(series.levels))]
        self._direct, self._direct_file = open_direct_levels(self.path, series)
        base_width = series.levels[0].shape[series.axes.index("X")]
        self._levels = []
        for level_series in series.levels:
            width = level_series.shape[level_series.axes.index("X")]
            height = level_series.shape[level_series.axes.index("Y")]
            self._levels.append(Level(width, height, base_width / width))

        self._compression = _compression_name(compression)
        self._tile_size = (
            int(keyframe.tilewidth) if keyframe.is_tiled else DEFAULT_TILE_SIZE
        )
        self._microns_per_pixel = _microns_per_pixel(tiff, keyframe)
        if tiff.is_ome:
            self.format_name = "OME-TIFF"
        elif tiff.is_svs:
            self.format_name = "SVS"
        elif len(self._levels) > 1:
            self.format_name = "pyramidal TIFF"
        else:
            # Not yet: a large single-level TIFF has no reduced levels, so
            # zooming out reads level 0.
            self.format_name = "tiled TIFF" if keyframe.is_tiled else "TIFF"

    def _check_complete(self, series: tifffile.TiffPageSeries) -> None:
        """Refuse a file cut short, before a read deep inside it fails."""
        file_size = self.path.stat().st_size
        for level_series in series.levels:
            for page in level_series.pages:
                if page is None:
                    raise CorruptImageError(
                        "a pyramid level is missing from the file",
                        self.path,
                        "the file is truncated or damaged; copy it again",
                    )
                ends = [
                    offset + count
                    for offset, count in zip(
                        page.dataoffsets, page.databytecounts, strict=True
                    )
                    if count
                ]
                if ends and max(ends) > file_size:
                    raise CorruptImageError(
                        f"the file is truncated: it has {file_size} bytes but its "
                        f"tiles run to byte {max(ends)}",
                        self.path,
                        "copy or download the file again",
                    )

    @property
    def levels(self) -> list[Level]:
        return list(self._levels)

    @property
    def tile_size(self) -> int:
        return self._tile_size

    @property
    def microns_per_pixel(self) -> float | None:
        return self._microns_per_pixel

    @property
    def compression(self) -> str | None:
        return self._compression

    def _read_inside(
        self, level: int, x: int, y: int, width: int, height: int
    ) -> np.ndarray:
        direct = self._direct[level]
        if direct is not None:
            try:
                pixels = direct.read(x, y, width, height)
            except READ_ERRORS as error:
                raise CorruptImageError(
                    f"cannot decode level {level} at x={x} y={y}: {error}",
                    self.path,
                    "the file may be damaged; copy or export it again",
                ) from error
            return to_rgb(pixels, self.path)
        selection = []
        for axis in self._axes:
            if axis == "Y":
                selection.append(slice(y, y + height))
            elif axis == "X":
                selection.append(slice(x, x + width))
            elif axis == "S":
                selection.append(slice(None))
            else:
                selection.append(0)
        try:
            pixels = np.asarray(self._arrays[level][tuple(selection)])
        except READ_ERRORS as error:
            raise CorruptImageError(
                f"cannot decode level {level} at x={x} y={y}: {error}",
                self.path,
                "the file may be damaged; copy or export it again",
            ) from error
        kept_axes = [axis for axis in self._axes if axis in "YXS"]
        if "S" in kept_axes and kept_axes.index("S") != 2:
            pixels = np.moveaxis(pixels, kept_axes.index("S"), -1)
        return to_rgb(pixels, self.path)

    def _close(self) -> None:
        if self._direct_file is not None:
            self._direct_file.close()
        self._store.close()
        self._tiff.close()


def _not_readable(path: Path, error: Exception) -> CorruptImageError:
    return CorruptImageError(
        f"not a readable TIFF file: {error}",
        path,
        "the file may be truncated or damaged; copy or export it again",
    )


def _compression_name(code: int) -> str:
    try:
        return tifffile.COMPRESSION(code).name
    except ValueError:
        return f"unknown compression {code}"


def _microns_per_pixel(
    tiff: tifffile.TiffFile, keyframe: tifffile.TiffPage
) -> float | None:
    """Level-0 pixel size from OME metadata, the SVS description or the tags."""
    if tiff.is_ome and tiff.ome_metadata:
        microns = _ome_microns_per_pixel(tiff.ome_metadata)
        if microns:
            return microns
    if tiff.is_svs:
        match = re.search(r"\bMPP\s*=\s*([0-9.eE+-]+)", tiff.pages[0].description)
        if match:
            try:
                return float(match.group(1))
            except ValueError:
                log.debug("ignoring unreadable MPP %r", match.group(1))
    return _resolution_microns_per_pixel(keyframe)


def _ome_microns_per_pixel(ome_xml: str) -> float | None:
    try:
        root = ElementTree.fromstring(ome_xml)
    except ElementTree.ParseError:
        log.warning("ignoring OME metadata that is not valid XML")
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != "Pixels":
            continue
        size = element.get("PhysicalSizeX")
        if size is None:
            return None
        unit = element.get("PhysicalSizeXUnit", "µm")
        try:
            return float(size) * OME_UNITS[unit]
        except (ValueError, KeyError):
            log.warning("ignoring OME PhysicalSizeX %r %r", size, unit)
            return None
    return None


def _resolution_microns_per_pixel(page: tifffile.TiffPage) -> float | None:
    tag = page.tags.get("XResolution")
    unit = page.tags.get("ResolutionUnit")
    if tag is None or unit is None:
        return None
    numerator, denominator = tag.value
    if not numerator or not denominator:
        return None
    pixels_per_unit = numerator / denominator
    microns_per_unit = {2: 25400.0, 3: 10000.0}.get(int(unit.value))
    if microns_per_unit is None:
        return None
    microns = microns_per_unit / pixels_per_unit
    return microns if microns <= MAX_PLAUSIBLE_MPP else None
