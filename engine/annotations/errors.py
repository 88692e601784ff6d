"""Problems found in annotation files: typed, with the file and the line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import CervixError


class AnnotationError(CervixError):
    """An annotation file that cannot be used as it is."""

    def __init__(
        self, message: str, path: Path | str | None = None, line: int | None = None
    ):
        self.line = line
        super().__init__(message, path)

    def user_message(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


class DatFormatError(AnnotationError):
    """A .dat file whose text is not a list of `x,y` vertices."""


class GeometryError(AnnotationError):
    """An outline that is not a valid polygon, or a nucleus outside its cell."""


class ImageFileError(AnnotationError):
    """A cluster or cell image that is missing or cannot be read."""


class ImportFormatError(AnnotationError):
    """A file of another dataset or interchange format that cannot be imported."""


@dataclass(frozen=True)
class Problem:
    """One problem found while reading a dataset, kept to show the user."""

    path: Path
    line: int | None
    message: str
    kind: str

    @classmethod
    def from_error(cls, error: AnnotationError) -> Problem:
        return cls(
            path=error.path or Path(),
            line=error.line,
            message=error.message,
            kind=type(error).__name__,
        )

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"

    def to_json(self) -> dict:
        return {
            "path": str(self.path),
            "line": self.line,
            "message": self.message,
            "kind": self.kind,
        }
