"""Recently read tiles kept within a byte budget, shared by the viewer's threads.

The viewer asks again and again for the tiles around the place the user looks
at; keeping them decoded makes panning back free, and the byte budget keeps a
100,000-pixel slide as cheap in memory as a small image.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from engine.images.errors import ImageSourceError, RegionError
from engine.images.source import BACKGROUND, ImageSource, clip_region

log = logging.getLogger(__name__)

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class CacheStats:
    """What the cache holds and how often it answered without decoding."""

    hits: int
    misses: int
    evictions: int
    items: int
    bytes: int
    max_bytes: int

    @property
    def hit_rate(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


class TileCache:
    """A least-recently-used map from tile keys to pixels, bounded in bytes.

    Safe to use from several threads. A tile bigger than the whole budget is
    returned but not kept. Cached arrays are read-only, so that no caller can
    change what another one sees.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        if max_bytes < 0:
            raise ValueError(f"a cache budget cannot be negative: {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._tiles: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._evictions = 0
        self._lock = threading.Lock()

    def resize(self, max_bytes: int) -> int:
        """Change the byte budget, evicting the least recently used tiles down to
        it at once; return how many were evicted."""
        if max_bytes < 0:
            raise ValueError(f"a cache budget cannot be negative: {max_bytes}")
        evicted_count = 0
        with self._lock:
            self.max_bytes = int(max_bytes)
            while self._bytes > self.max_bytes:
                _, evicted = self._tiles.popitem(last=False)
                self._bytes -= evicted.nbytes
                self._evictions += 1
                evicted_count += 1
        return evicted_count

    def get(self, key: Hashable) -> np.ndarray | None:
        """The tile for a key, or None; counts a hit or a miss."""
        with self._lock:
            tile = self._tiles.get(key)
            if tile is None:
                self._misses += 1
                return None
            self._tiles.move_to_end(key)
            self._hits += 1
            return tile

    def put(self, key: Hashable, tile: np.ndarray) -> np.ndarray:
        """Keep a tile, evicting the least recently used ones to fit; return it."""
        tile.setflags(write=False)
        with self._lock:
            previous = self._tiles.pop(key, None)
            if previous is not None:
                self._bytes -= previous.nbytes
            if tile.nbytes > self.max_bytes:
                return tile
            self._tiles[key] = tile
            self._bytes += tile.nbytes
            while self._bytes > self.max_bytes:
                _, evicted = self._tiles.popitem(last=False)
                self._bytes -= evicted.nbytes
                self._evictions += 1
        return tile

    def get_or_load(self, key: Hashable, load: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached tile, or the one `load()` returns, which is then kept."""
        tile = self.get(key)
        if tile is not None:
            return tile
        # Decoding happens outside the lock so other threads keep being
        # served; two threads missing the same tile at once both decode it.
        return self.put(key, load())

    def discard(self, predicate: Callable[[Hashable], bool]) -> int:
        """Drop every tile whose key satisfies predicate; return how many."""
        with self._lock:
            keys = [key for key in self._tiles if predicate(key)]
            for key in keys:
                self._bytes -= self._tiles.pop(key).nbytes
        return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()
            self._bytes = 0

    @property
    def current_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                evictions=self._evictions,
                items=len(self._tiles),
                bytes=self._bytes,
                max_bytes=self.max_bytes,
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._tiles)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._tiles


class CachedTileReader:
    """Reads a source tile by tile on the source's own tile grid, through a cache.

    Tiles on the right and bottom edges are as wide and tall as the image
    leaves them, not padded.
    """

    def __init__(self, source: ImageSource, cache: TileCache):
        self.source = source
        self.cache = cache
        self.tile_size = int(source.tile_size)

    def tile_grid(self, level: int) -> tuple[int, int]:
        """(columns, rows) of tiles that cover a level."""
        clip_region(self.source, level, 0, 0, 1, 1)
        width, height = self.source.levels[level][:2]
        return math.ceil(width / self.tile_size), math.ceil(height / self.tile_size)

    def read_tile(self, level: int, tile_x: int, tile_y: int) -> np.ndarray:
        """One tile of a level, RGB uint8, read-only; from the cache when there."""
        if self.source.closed:
            raise ImageSourceError(
                "the image was closed", self.source.path, "open it again to read it"
            )
        columns, rows = self.tile_grid(level)
        if not (0 <= tile_x < columns and 0 <= tile_y < rows):
            raise RegionError(
                f"tile ({tile_x}, {tile_y}) is outside level {level}, which has "
                f"{columns}x{rows} tiles",
                self.source.path,
            )
        key = (self.source.source_id, level, tile_x, tile_y)
        return self.cache.get_or_load(
            key, lambda: self._load_tile(level, tile_x, tile_y)
        )

    def _load_tile(self, level: int, tile_x: int, tile_y: int) -> np.ndarray:
        width, height = self.source.levels[level][:2]
        x, y = tile_x * self.tile_size, tile_y * self.tile_size
        return self.source.read_region(
            level,
            x,
            y,
            min(self.tile_size, width - x),
            min(self.tile_size, height - y),
        )

    def read_region(
        self, level: int, x: int, y: int, width: int, height: int
    ) -> np.ndarray:
        """Like ImageSource.read_region, put together from cached tiles."""
        if self.source.closed:
            raise ImageSourceError(
                "the image was closed", self.source.path, "open it again to read it"
            )
        left, top, right, bottom = clip_region(self.source, level, x, y, width, height)
        x, y, width, height = int(x), int(y), int(width), int(height)
        region = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
        size = self.tile_size
        for tile_y in range(top // size, (bottom - 1) // size + 1):
            for tile_x in range(left // size, (right - 1) // size + 1):
                tile = self.read_tile(level, tile_x, tile_y)
                tile_left, tile_top = tile_x * size, tile_y * size
                # The overlap of this tile and the region, in level pixels.
                x0, x1 = max(left, tile_left), min(right, tile_left + tile.shape[1])
                y0, y1 = max(top, tile_top), min(bottom, tile_top + tile.shape[0])
                region[y0 - y : y1 - y, x0 - x : x1 - x] = tile[
                    y0 - tile_top : y1 - tile_top, x0 - tile_left : x1 - tile_left
                ]
        return region

    def forget(self) -> int:
        """Drop this source's tiles from the cache, e.g. when it is closed."""
        source_id = self.source.source_id
        return self.cache.discard(
            lambda key: isinstance(key, tuple) and key[:1] == (source_id,)
        )
