"""Read the next batches while the model works on this one.

Reading a tile (decoding JPEG tiles of a slide, resizing) and running a model
both release Python's interpreter lock, so a few reader threads keep the model
fed. Only `depth` batches wait ahead, which bounds the memory they take.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

import numpy as np

Item = TypeVar("Item")


def reader_threads() -> int:
    return max(1, min(4, (os.cpu_count() or 1) - 1))


class Prefetcher(Generic[Item]):
    """Yields `(items, pixels)` batches in order, read by threads ahead of time."""

    def __init__(
        self,
        items: Sequence[Item],
        read: Callable[[Item], np.ndarray],
        batch_size: int,
        *,
        workers: int | None = None,
        depth: int = 2,
    ):
        self.items = list(items)
        self.read = read
        self.batch_size = max(1, int(batch_size))
        self.depth = max(1, int(depth))
        self._executor = ThreadPoolExecutor(
            workers or reader_threads(), thread_name_prefix="inference-reader"
        )
        self._waiting: deque[tuple[list[Item], list[Future]]] = deque()
        self._next = 0

    @property
    def batches(self) -> int:
        return -(-len(self.items) // self.batch_size)

    @property
    def waiting(self) -> int:
        """Batches read or being read ahead of the consumer."""
        return len(self._waiting)

    def _submit_next(self) -> None:
        batch = self.items[self._next : self._next + self.batch_size]
        self._next += len(batch)
        futures = [self._executor.submit(self.read, item) for item in batch]
        self._waiting.append((batch, futures))

    def __iter__(self) -> Iterator[tuple[list[Item], list[np.ndarray]]]:
        try:
            while True:
                while len(self._waiting) < self.depth and self._next < len(self.items):
                    self._submit_next()
                if not self._waiting:
                    return
                batch, futures = self._waiting.popleft()
                pixels = [future.result() for future in futures]
                # Ask for the batch after next before handing this one over, so
                # the readers work while the model does.
                if self._next < len(self.items):
                    self._submit_next()
                yield batch, pixels
        finally:
            self.close()

    def close(self) -> None:
        for _, futures in self._waiting:
            for future in futures:
                future.cancel()
        self._waiting.clear()
        self._executor.shutdown(wait=True, cancel_futures=True)
