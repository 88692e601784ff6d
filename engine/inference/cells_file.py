"""The predicted cells of one image written to the store as they come.

The file is the store's `<key>.cells.json`, in the very format that
`ImagePredictions.to_json` gives, but written one cell at a time into a hidden
temporary file that replaces the real one only when the image is finished: a
slide's cells never all sit in memory, and a cancelled run leaves no half file.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from engine.predictions import ImagePredictions, PredictedCell, PredictionStoreError

log = logging.getLogger(__name__)


class CellsFileWriter:
    """Streams cells into `path`, which appears only at `finish()`."""

    def __init__(self, path: Path, header: ImagePredictions):
        self.path = Path(path)
        self.partial = self.path.with_name(f".{self.path.name}.partial")
        self.count = 0
        fields = header.to_json()
        fields.pop("cells", None)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.partial.open("w", encoding="utf-8")
            self._file.write(json.dumps(fields, ensure_ascii=False)[:-1])
            self._file.write(', "cells": [\n')
        except OSError as error:
            raise PredictionStoreError(
                f"cannot be written: {error.strerror or error}",
                self.path,
                "check that the folder is writable and the disk is not full",
            ) from error

    def add(self, cell: PredictedCell) -> None:
        separator = ",\n" if self.count else ""
        try:
            self._file.write(separator + json.dumps(cell.to_json(), ensure_ascii=False))
        except OSError as error:
            self.abort()
            raise PredictionStoreError(
                f"cannot be written: {error.strerror or error}",
                self.path,
                "check that the disk is not full",
            ) from error
        self.count += 1

    def finish(self) -> Path:
        try:
            self._file.write("\n]}\n")
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self.partial, self.path)
        except OSError as error:
            self.abort()
            raise PredictionStoreError(
                f"cannot be written: {error.strerror or error}",
                self.path,
                "check that the disk is not full",
            ) from error
        return self.path

    def abort(self) -> None:
        """Close and remove the temporary file; the old file, if any, stays."""
        if not self._file.closed:
            self._file.close()
        self.partial.unlink(missing_ok=True)
