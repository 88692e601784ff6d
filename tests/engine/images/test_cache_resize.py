"""Changing the tile cache's byte budget while it holds tiles."""

from __future__ import annotations

import numpy as np
import pytest

from engine.images import TileCache


def tile_of(nbytes: int) -> np.ndarray:
    return np.zeros((nbytes // 3 // 10, 10, 3), np.uint8)


def test_a_smaller_budget_evicts_the_least_recent_tiles_at_once():
    cache = TileCache(max_bytes=3000)
    for key in "abc":
        cache.put(key, tile_of(900))
    cache.get("a")  # "b" is now the least recently used

    evicted = cache.resize(1000)

    assert evicted == 2
    assert "a" in cache and "b" not in cache and "c" not in cache
    assert cache.current_bytes == 900
    assert cache.stats().max_bytes == 1000


def test_a_larger_budget_keeps_everything_and_makes_room_for_more():
    cache = TileCache(max_bytes=1000)
    cache.put("a", tile_of(900))

    assert cache.resize(2000) == 0
    cache.put("b", tile_of(900))

    assert "a" in cache and "b" in cache


def test_a_negative_budget_is_refused():
    with pytest.raises(ValueError, match="negative"):
        TileCache().resize(-1)
