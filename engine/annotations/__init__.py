"""Cells, images and datasets: SIPaKMeD read and write, the project folder, formats."""

from engine.annotations.cells import Cell, ImageKind, ImageRecord, Origin, ReviewState
from engine.annotations.classes import SIPAKMED_CLASSES, CellClass, ClassScheme
from engine.annotations.dataset import ConflictError, Dataset, SaveReport, new_cell
from engine.annotations.errors import (
    AnnotationError,
    DatFormatError,
    GeometryError,
    ImageFileError,
    Problem,
)
from engine.annotations.project import ProjectFolder, ProjectSettings

__all__ = [
    "SIPAKMED_CLASSES",
    "AnnotationError",
    "Cell",
    "CellClass",
    "ClassScheme",
    "ConflictError",
    "DatFormatError",
    "Dataset",
    "GeometryError",
    "ImageFileError",
    "ImageKind",
    "ImageRecord",
    "Origin",
    "Problem",
    "ProjectFolder",
    "ProjectSettings",
    "ReviewState",
    "SaveReport",
    "new_cell",
]
