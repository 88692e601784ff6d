"""The review gallery's list model: review candidates as items with the
probability under each, and each cell's thumbnail cut when first shown."""

from __future__ import annotations

import logging

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt
from PySide6.QtGui import QImage, QPixmap

from engine.errors import CervixError
from engine.review import ReviewCandidate, cell_thumbnail

log = logging.getLogger(__name__)

THUMBNAIL_PX = 128


class CandidateModel(QAbstractListModel):
    """Review candidates as list items; a thumbnail is cut only when the view first
    asks for it, and kept."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.candidates: list[ReviewCandidate] = []
        self.notes: list[str] = []  # why each cell is in the training queue
        self.read_region = None
        self._pixmaps: dict[tuple, QPixmap] = {}

    def set_candidates(self, candidates, read_region, notes=None) -> None:
        self.beginResetModel()
        if read_region is not self.read_region:
            self._pixmaps.clear()
        self.candidates = list(candidates)
        self.notes = list(notes) if notes else [""] * len(self.candidates)
        self.read_region = read_region
        self.endResetModel()

    def forget_thumbnails(self, image_key: str) -> None:
        """The cells of an image changed: cut their thumbnails again."""
        for identity in [key for key in self._pixmaps if key[0] == image_key]:
            del self._pixmaps[identity]

    def rowCount(self, parent=None) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent is not None and parent.isValid() else len(self.candidates)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        candidate = self.candidates[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                f"{candidate.predicted_class or 'no class'}\n"
                f"abnormal {candidate.abnormal_probability:.2f}"
            )
        if role == Qt.ItemDataRole.ToolTipRole:
            note = self.notes[index.row()]
            return f"{candidate.image_key}, {candidate.ref}" + (
                f"\n{note}" if note else ""
            )
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(candidate)
        if role == Qt.ItemDataRole.UserRole:
            return candidate
        return None

    def _pixmap(self, candidate: ReviewCandidate) -> QPixmap | None:
        identity = (candidate.image_key, candidate.ref)
        pixmap = self._pixmaps.get(identity)
        if pixmap is None and self.read_region is not None:
            try:
                rgb = cell_thumbnail(candidate, self.read_region, THUMBNAIL_PX)
            except (CervixError, OSError) as error:
                log.warning("No thumbnail of %s: %s", identity, error)
                rgb = None
            if rgb is None:
                return None
            height, width = rgb.shape[:2]
            image = QImage(
                rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888
            )
            pixmap = QPixmap.fromImage(image.copy())
            self._pixmaps[identity] = pixmap
        return pixmap
