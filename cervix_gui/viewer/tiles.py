"""Tiled drawing off the GUI thread: only the visible tiles of the level that fits
the zoom are made, in a thread pool, and a coarser tile stands in until then.

A `TileProvider` says how a picture is cut into levels and tiles and makes one
tile as a QImage; it is called from worker threads and must be thread-safe.
`TiledPainter` draws a provider's picture into any painter: tiles it has
are drawn, missing ones are asked of the `TileLoader`, whose queued signal
brings them back to the GUI thread, where `on_update(rect)` asks for a repaint.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from PySide6.QtCore import QObject, QRectF, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPainter, QPainterPath

from engine.errors import CervixError

log = logging.getLogger(__name__)

DEFAULT_IMAGE_BUDGET = 96 * 1024 * 1024  # decoded QImages kept per painter
_pool: QThreadPool | None = None


def tile_pool() -> QThreadPool:
    """The thread pool every tile is made in, apart from other background jobs."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(max(2, min(os.cpu_count() or 2, 8)))
        # Threads still making tiles while Python shuts down would wait for
        # it forever: drop the queue and let running tiles finish first.
        atexit.register(stop_tile_pool)
    return _pool


def stop_tile_pool(wait_ms: int = 5000) -> None:
    """Drop queued tiles and wait for those being made (at exit)."""
    if _pool is not None:
        _pool.clear()
        _pool.waitForDone(wait_ms)


class TileProvider:
    """A picture cut into levels of tiles; subclasses make the tiles."""

    #: Changes whenever the picture does, so old tiles are never shown again.
    key: Hashable = None

    def size(self) -> tuple[float, float]:
        """(width, height) of the picture in level-0 (image) pixels."""
        raise NotImplementedError

    def level_count(self) -> int:
        raise NotImplementedError

    def level_size(self, level: int) -> tuple[int, int]:
        """(width, height) of a level in its own pixels."""
        raise NotImplementedError

    def tile_size(self) -> int:
        raise NotImplementedError

    def level_for_zoom(self, zoom: float) -> int:
        """The level to draw at `zoom` screen pixels per image pixel."""
        raise NotImplementedError

    def render(self, level: int, tile_x: int, tile_y: int) -> QImage:
        """One tile, as wide and tall as the level leaves it; thread-safe."""
        raise NotImplementedError

    # Shared geometry.

    def grid(self, level: int) -> tuple[int, int]:
        width, height = self.level_size(level)
        size = self.tile_size()
        return math.ceil(width / size), math.ceil(height / size)

    def scale(self, level: int) -> tuple[float, float]:
        """Image pixels per pixel of `level`, across and down."""
        width, height = self.size()
        level_width, level_height = self.level_size(level)
        return width / level_width, height / level_height

    def tile_rect(self, level: int, tile_x: int, tile_y: int) -> QRectF:
        """Where a tile lies, in image pixels."""
        size = self.tile_size()
        level_width, level_height = self.level_size(level)
        scale_x, scale_y = self.scale(level)
        left, top = tile_x * size, tile_y * size
        return QRectF(
            left * scale_x,
            top * scale_y,
            min(size, level_width - left) * scale_x,
            min(size, level_height - top) * scale_y,
        )

    def tiles_in(self, level: int, rect: QRectF) -> list[tuple[int, int]]:
        """The tiles of `level` that overlap `rect` (image pixels), centre first."""
        width, height = self.size()
        rect = rect.intersected(QRectF(0, 0, width, height))
        if rect.isEmpty():
            return []
        size = self.tile_size()
        scale_x, scale_y = self.scale(level)
        columns, rows = self.grid(level)
        # A tile that only touches the rectangle's far edge is not needed.
        first_x = max(int(rect.left() / scale_x // size), 0)
        last_x = min(math.ceil(rect.right() / scale_x / size) - 1, columns - 1)
        first_y = max(int(rect.top() / scale_y // size), 0)
        last_y = min(math.ceil(rect.bottom() / scale_y / size) - 1, rows - 1)
        centre_x = (first_x + last_x) / 2.0
        centre_y = (first_y + last_y) / 2.0
        tiles = [
            (x, y)
            for y in range(first_y, last_y + 1)
            for x in range(first_x, last_x + 1)
        ]
        tiles.sort(key=lambda t: (t[0] - centre_x) ** 2 + (t[1] - centre_y) ** 2)
        return tiles


class _TileSignals(QObject):
    ready = Signal(object, QImage)  # (provider key, level, x, y), tile
    failed = Signal(object, str)


class _TileJob(QRunnable):
    def __init__(self, loader: TileLoader, provider: TileProvider, tile_key: tuple):
        super().__init__()
        self.loader = loader
        self.provider = provider
        self.tile_key = tile_key

    def run(self) -> None:
        if not self.loader.still_wanted(self.tile_key):
            return  # the view moved on before this tile's turn came
        _, level, tile_x, tile_y = self.tile_key
        try:
            image = self.provider.render(level, tile_x, tile_y)
        except CervixError as error:
            self.loader.signals.failed.emit(self.tile_key, error.user_message())
            return
        except Exception as error:  # a worker must report, never die silently
            log.exception("Tile %r could not be made", self.tile_key)
            self.loader.signals.failed.emit(self.tile_key, f"{type(error).__name__}")
            return
        self.loader.signals.ready.emit(self.tile_key, image)


class TileLoader:
    """Asks the tile pool for tiles, drops requests the view no longer needs,
    and hands finished tiles to `on_ready(tile_key, image)` on the GUI thread."""

    def __init__(self, on_ready: Callable, on_failed: Callable | None = None):
        self.signals = _TileSignals()
        self.signals.ready.connect(self._delivered)
        self.signals.failed.connect(self._failed)
        self._on_ready = on_ready
        self._on_failed = on_failed
        self._lock = threading.Lock()
        self._pending: set[tuple] = set()
        self._wanted: set[tuple] = set()

    def request(self, provider: TileProvider, tile_keys: list[tuple]) -> None:
        """Make the wanted tiles exactly `tile_keys` (in order of urgency), asking
        the pool for those not already on their way."""
        with self._lock:
            self._wanted = set(tile_keys)
            new = [key for key in tile_keys if key not in self._pending]
            self._pending.update(new)
        pool = tile_pool()
        for order, key in enumerate(new):
            job = _TileJob(self, provider, key)
            # Earlier (more central, coarser) tiles first.
            pool.start(job, max(0, 100 - order))

    def still_wanted(self, tile_key: tuple) -> bool:
        with self._lock:
            if tile_key in self._wanted:
                return True
            self._pending.discard(tile_key)
            return False

    def cancel(self) -> None:
        """Forget every request: queued tiles are skipped when their turn comes."""
        with self._lock:
            self._wanted = set()

    def busy(self) -> bool:
        """Whether tiles are still on their way."""
        with self._lock:
            return bool(self._pending)

    def _delivered(self, tile_key: tuple, image: QImage) -> None:
        with self._lock:
            self._pending.discard(tile_key)
        self._on_ready(tile_key, image)

    def _failed(self, tile_key: tuple, message: str) -> None:
        with self._lock:
            self._pending.discard(tile_key)
        if self._on_failed is not None:
            self._on_failed(tile_key, message)


class TiledPainter:
    """Draws a provider's picture at any zoom from the tiles at hand, and fetches
    the tiles that the last frame missed."""

    def __init__(
        self,
        on_update: Callable[[QRectF], None],
        image_budget: int = DEFAULT_IMAGE_BUDGET,
        on_failed: Callable[[str], None] | None = None,
    ):
        self.provider: TileProvider | None = None
        self.on_update = on_update
        self.on_failed = on_failed
        self.image_budget = image_budget
        self.failures: dict[tuple, str] = {}
        self._images: OrderedDict[tuple, QImage] = OrderedDict()
        self._bytes = 0
        self.loader = TileLoader(self._tile_ready, self._tile_failed)

    def set_provider(self, provider: TileProvider | None) -> None:
        """Draw `provider`'s picture from now on; tiles of the old one are dropped."""
        self.loader.cancel()
        self.provider = provider
        self.failures.clear()
        self._images.clear()
        self._bytes = 0

    def forget_tiles(self) -> None:
        """Drop the drawn tiles (their picture changed under the same key)."""
        self.loader.cancel()
        self._images.clear()
        self._bytes = 0

    def cached_count(self) -> int:
        return len(self._images)

    def cached_bytes(self) -> int:
        return self._bytes

    def has_tile(self, level: int, tile_x: int, tile_y: int) -> bool:
        provider = self.provider
        return (
            provider is not None
            and (provider.key, level, tile_x, tile_y) in self._images
        )

    def busy(self) -> bool:
        return self.loader.busy()

    def paint(self, painter: QPainter, exposed: QRectF, zoom: float) -> None:
        """Draw what is at hand of `exposed` (image pixels) and fetch the rest."""
        provider = self.provider
        if provider is None or exposed.isEmpty():
            return
        level = provider.level_for_zoom(zoom)
        key = provider.key
        missing: list[tuple] = []
        drawn: list[tuple[QRectF, QImage]] = []
        for tile_x, tile_y in provider.tiles_in(level, exposed):
            tile_key = (key, level, tile_x, tile_y)
            image = self._images.get(tile_key)
            if image is None:
                if tile_key not in self.failures:
                    missing.append(tile_key)
                continue
            self._images.move_to_end(tile_key)
            drawn.append((provider.tile_rect(level, tile_x, tile_y), image))

        coarsest = provider.level_count() - 1
        wanted = list(missing)
        if missing:
            self._draw_stand_ins(painter, provider, level, missing)
            # The coarsest level is small and stands in for anything missing.
            for tile_x, tile_y in provider.tiles_in(coarsest, exposed):
                tile_key = (key, coarsest, tile_x, tile_y)
                if tile_key not in self._images and tile_key not in self.failures:
                    wanted.insert(0, tile_key)
        _draw_snapped(painter, drawn)
        self.loader.request(provider, list(dict.fromkeys(wanted)))

    def _draw_stand_ins(self, painter, provider, level, missing) -> None:
        """Coarser tiles, clipped to where sharper ones are missing."""
        region = QPainterPath()
        needed = QRectF()
        for _, _, tile_x, tile_y in missing:
            rect = provider.tile_rect(level, tile_x, tile_y)
            region.addRect(rect)
            needed = needed.united(rect)
        painter.save()
        painter.setClipPath(region, Qt.ClipOperation.IntersectClip)
        # Coarsest first, so the sharpest stand-in at hand ends on top.
        stand_ins: list[tuple[QRectF, QImage]] = []
        for coarser in range(provider.level_count() - 1, level, -1):
            for tile_x, tile_y in provider.tiles_in(coarser, needed):
                image = self._images.get((provider.key, coarser, tile_x, tile_y))
                if image is not None:
                    rect = provider.tile_rect(coarser, tile_x, tile_y)
                    stand_ins.append((rect, image))
            _draw_snapped(painter, stand_ins)
            stand_ins.clear()
        painter.restore()

    def _tile_ready(self, tile_key: tuple, image: QImage) -> None:
        provider = self.provider
        if provider is None or tile_key[0] != provider.key:
            return  # a tile of a picture no longer shown
        self._images[tile_key] = image
        self._bytes += image.sizeInBytes()
        while self._bytes > self.image_budget and len(self._images) > 1:
            _, old = self._images.popitem(last=False)
            self._bytes -= old.sizeInBytes()
        self.on_update(provider.tile_rect(*tile_key[1:]))

    def _tile_failed(self, tile_key: tuple, message: str) -> None:
        provider = self.provider
        if provider is None or tile_key[0] != provider.key:
            return
        first = not self.failures
        self.failures[tile_key] = message
        if first:  # one report per picture, not one per tile
            log.warning("A tile could not be shown: %s", message)
            if self.on_failed is not None:
                self.on_failed(message)
        self.on_update(provider.tile_rect(*tile_key[1:]))


def _draw_snapped(painter: QPainter, tiles: list[tuple[QRectF, QImage]]) -> None:
    """Draw tiles on whole screen pixels, so neighbours meet without a seam of
    background showing through their blended edges."""
    if not tiles:
        return
    transform = painter.worldTransform()
    painter.save()
    painter.resetTransform()
    for rect, image in tiles:
        mapped = transform.mapRect(rect)
        left, top = round(mapped.left()), round(mapped.top())
        right, bottom = round(mapped.right()), round(mapped.bottom())
        if right > left and bottom > top:
            painter.drawImage(QRectF(left, top, right - left, bottom - top), image)
    painter.restore()
