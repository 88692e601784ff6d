"""The tile cache: bounded in bytes, least recently used first out, thread-safe."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from engine.images import (
    CachedTileReader,
    ImageSourceError,
    RegionError,
    TileCache,
    open_image,
)


def tile_of(nbytes: int, value: int = 0) -> np.ndarray:
    return np.full((nbytes // 3 // 10, 10, 3), value, np.uint8)


def test_eviction_keeps_within_the_byte_budget_least_recent_first():
    cache = TileCache(max_bytes=3000)
    for key in "abc":
        cache.put(key, tile_of(900))
    assert cache.current_bytes == 2700
    assert cache.get("a") is not None  # "a" is now the most recently used
    cache.put("d", tile_of(900))  # 3600 > 3000: the least recent ("b") goes

    assert "b" not in cache
    assert {"a", "c", "d"} <= {key for key in "abcd" if key in cache}
    assert cache.current_bytes == 2700
    assert cache.stats().evictions == 1


def test_big_tiles_push_out_several_small_ones():
    cache = TileCache(max_bytes=3000)
    for key in range(6):
        cache.put(key, tile_of(450))
    cache.put("big", tile_of(2400))
    assert cache.current_bytes <= 3000
    assert "big" in cache and len(cache) == 2


def test_a_tile_larger_than_the_budget_is_returned_but_not_kept():
    cache = TileCache(max_bytes=1000)
    tile = cache.get_or_load("huge", lambda: tile_of(3000, 7))
    assert tile.shape == (100, 10, 3) and (tile == 7).all()
    assert len(cache) == 0 and cache.current_bytes == 0


def test_hits_and_misses_are_counted():
    cache = TileCache(max_bytes=10_000)
    loads = []

    def load():
        loads.append(1)
        return tile_of(300)

    for _ in range(3):
        cache.get_or_load(("slide", 0, 1, 2), load)
    stats = cache.stats()
    assert (stats.hits, stats.misses, len(loads)) == (2, 1, 1)
    assert stats.hit_rate == pytest.approx(2 / 3)


def test_cached_tiles_cannot_be_changed_by_a_caller():
    cache = TileCache(max_bytes=10_000)
    tile = cache.put("t", tile_of(300))
    with pytest.raises(ValueError):
        tile[0, 0, 0] = 1


def test_reader_regions_equal_direct_reads(ome_tiff):
    with open_image(ome_tiff) as source:
        reader = CachedTileReader(source, TileCache(8 * 1024 * 1024))
        for level, region in [
            (0, (0, 0, 700, 500)),
            (0, (100, 90, 300, 200)),
            (1, (-30, 200, 100, 100)),  # padded on the left and bottom
            (2, (170, 0, 40, 40)),
        ]:
            np.testing.assert_array_equal(
                reader.read_region(level, *region), source.read_region(level, *region)
            )
        misses = reader.cache.stats().misses
        reader.read_region(0, 100, 90, 300, 200)
        assert reader.cache.stats().misses == misses  # all from the cache now


def test_reader_tiles_follow_the_files_grid(ome_tiff, slide_pixels):
    with open_image(ome_tiff) as source:
        reader = CachedTileReader(source, TileCache())
        assert reader.tile_size == 128
        assert reader.tile_grid(0) == (6, 4)  # 700x500 in 128-pixel tiles
        edge = reader.read_tile(0, 5, 3)  # the bottom-right tile is cut short
        assert edge.shape == (500 - 384, 700 - 640, 3)
        np.testing.assert_array_equal(edge, slide_pixels[0][384:, 640:])
        with pytest.raises(RegionError):
            reader.read_tile(0, 6, 0)
        with pytest.raises(RegionError):
            reader.read_tile(0, -1, 0)
        with pytest.raises(RegionError):
            reader.read_region(0, 700, 0, 5, 5)
        assert len(reader.cache) == 1
        assert reader.forget() == 1 and len(reader.cache) == 0
    with pytest.raises(ImageSourceError):
        reader.read_tile(0, 0, 0)  # the source is closed now


def test_hammered_from_threads(ome_tiff, slide_pixels):
    tile_bytes = 128 * 128 * 3
    cache = TileCache(max_bytes=5 * tile_bytes)  # far fewer than the 33 tiles
    rng = np.random.default_rng(7)
    requests = [
        (
            int(level),
            int(rng.integers(0, 1 + 5 // (level + 1))),
            int(rng.integers(0, 1 + 3 // (level + 1))),
        )
        for level in rng.integers(0, 2, 800)
    ]
    over_budget = []

    with open_image(ome_tiff) as source:
        reader = CachedTileReader(source, cache)

        def read(request):
            level, tile_x, tile_y = request
            tile = reader.read_tile(level, tile_x, tile_y)
            if cache.current_bytes > cache.max_bytes:
                over_budget.append(cache.current_bytes)
            return tile

        with ThreadPoolExecutor(8) as pool:
            tiles = list(pool.map(read, requests))

    assert not over_budget
    for (level, tile_x, tile_y), tile in zip(requests, tiles, strict=True):
        x, y = tile_x * 128, tile_y * 128
        expected = slide_pixels[level][y : y + 128, x : x + 128]
        np.testing.assert_array_equal(tile, expected)
    stats = cache.stats()
    assert stats.hits + stats.misses == len(requests)
    assert stats.evictions > 0 and stats.hits > 0
    assert stats.bytes <= cache.max_bytes


def test_concurrent_puts_keep_the_byte_count_exact():
    cache = TileCache(max_bytes=50_000)
    barrier = threading.Barrier(6)

    def work(worker):
        barrier.wait()
        for index in range(300):
            cache.put((worker, index % 40), tile_of(900 + 30 * (index % 7)))
            cache.get((worker, (index * 7) % 40))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(work, range(6)))
    stats = cache.stats()
    assert stats.bytes <= cache.max_bytes
    assert stats.bytes == sum(
        cache.get(key).nbytes
        for key in list(cache._tiles)  # every kept tile
    )
