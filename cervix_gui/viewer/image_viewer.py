"""The viewer of one image: its tiles, its stack of layers, the scale bar and the
minimap, the selected cells, and why the image is missing when it cannot be
shown.

For the editing tools: `set_tool(tool)` makes a `ViewerTool` receive mouse and
key events in image pixels (see tools.py); `selection` is the shared
`CellSelection`; after changing cells, call `annotations_changed()` to redraw.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import (
    QGraphicsRectItem,
    QGraphicsScene,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.palette import ClassPalette
from cervix_gui.viewer.layer_stack import LayerStack
from cervix_gui.viewer.minimap import Minimap
from cervix_gui.viewer.scale_bar import ScaleBar
from cervix_gui.viewer.selection import CellSelection
from cervix_gui.viewer.tools import ViewerTool
from cervix_gui.viewer.zoomable_view import ZoomableView
from cervix_gui.workers import Job, start_job
from engine.annotations import ImageRecord
from engine.images import ImageSource, TileCache, open_image
from engine.images.cell_outlines import CellOutlines

log = logging.getLogger(__name__)

PLACEHOLDER = QColor("#45474d")  # where the image would be, until tiles arrive
TILE_CACHE_BYTES = 160 * 1024 * 1024  # decoded tiles kept, whatever the slide
BUILD_IN_WORKER_FROM = 3000  # cells: fewer are indexed at once, more in a worker


def _indexed(cells, class_names) -> CellOutlines:
    outlines = CellOutlines.from_cells(cells, class_names)
    outlines.prepare()
    return outlines


class ImageViewer(QWidget):
    """Shows an image record: a frame of its size at once, its outlines, and its
    pixels tile by tile as they are read."""

    zoom_changed = Signal(float)
    cursor_moved = Signal(object)  # QPointF in image pixels, or None
    source_opened = Signal(object)  # the ImageSource now shown
    annotations_ready = Signal()  # the shown image's outlines are drawn
    image_failed = Signal(str, str)  # image key, why its pixels cannot be shown

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scene = QGraphicsScene(self)
        self.scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.frame_item = QGraphicsRectItem()
        self.frame_item.setBrush(QBrush(PLACEHOLDER))
        self.frame_item.setPen(QPen(Qt.PenStyle.NoPen))
        self.frame_item.setZValue(-1.0)
        self.scene.addItem(self.frame_item)
        self.cache = TileCache(TILE_CACHE_BYTES)
        self.layers = LayerStack(self.scene, self.cache)
        self.selection = CellSelection(self)

        self.view = ZoomableView(self.scene, self)
        self.view.tool.activate(self)  # the default: pan and select
        self.scale_bar = ScaleBar()
        self.view.foreground_painters.append(self.scale_bar.paint_on_view)
        self.minimap = Minimap(self.view)
        self.message = QLabel(self)
        self.message.setObjectName("viewerMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(
            "#viewerMessage { background: #5c1f24; color: #ffffff; padding: 6px 10px; }"
        )
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.message)
        layout.addWidget(self.view)

        self._record: ImageRecord | None = None
        self._palette: ClassPalette | None = None
        self.source: ImageSource | None = None
        self.annotation_outlines: CellOutlines | None = None
        self._jobs: dict[str, Job] = {}
        self.view.zoom_changed.connect(self.zoom_changed)
        self.view.cursor_moved.connect(self.cursor_moved)
        self.selection.selection_changed.connect(self._on_selection)
        self.layers["image"].tile_failed.connect(self._on_tile_failed)

    @property
    def record(self) -> ImageRecord | None:
        """The image shown, or None."""
        return self._record

    @property
    def has_pixels(self) -> bool:
        """Whether any of the image's tiles has been drawn."""
        return self.layers["image"].tiles.cached_count() > 0

    def busy(self) -> bool:
        """Whether anything shown is still being read or built."""
        return bool(self._jobs) or self.layers.busy()

    def set_cache_budget(self, max_bytes: int) -> None:
        """Keep at most `max_bytes` of decoded tiles; fewer are dropped at once."""
        evicted = self.cache.resize(max_bytes)
        log.info(
            "Tile cache budget now %d MB (%d tiles dropped)", max_bytes >> 20, evicted
        )

    def content_rect(self) -> QRectF:
        return self.frame_item.rect()

    # -- showing an image ----------------------------------------------------------

    def show_image(self, record: ImageRecord, palette: ClassPalette) -> None:
        """Show `record`'s frame and outlines now; its tiles follow as they are read."""
        self._close_source()
        self._record = record
        self._palette = palette
        self.message.hide()
        self.selection.select(record.key, ())
        width, height = record.size or self._outline_extent(record)
        rect = QRectF(0, 0, width, height)
        self.frame_item.setRect(rect)
        self.layers.clear_predictions()
        self.show_annotations()
        self.view.set_content(rect)
        self._start("source", open_image, record.path, self._on_source, record.key)

    def show_annotations(self) -> None:
        """(Re)draw the shown image's saved cells."""
        record, palette = self._record, self._palette
        if record is None or palette is None:
            return
        names = [cell_class.name for cell_class in palette.scheme.classes]
        if len(record.cells) < BUILD_IN_WORKER_FROM:
            self._on_outlines(record.key, _indexed(record.cells, names))
        else:
            self.layers.show_annotations(None, palette, self.content_rect())
            self._start(
                "outlines",
                _indexed,
                (record.cells, names),
                self._on_outlines,
                record.key,
            )

    def annotations_changed(self) -> None:
        """The shown image's cells were edited: rebuild and redraw their outlines."""
        self.show_annotations()

    def _start(self, name, function, argument, on_done, key) -> None:
        arguments = argument if isinstance(argument, tuple) else (argument,)

        def finished(result) -> None:
            self._jobs.pop(name, None)
            on_done(key, result)

        def failed(message: str) -> None:
            self._jobs.pop(name, None)
            self._on_failed(key, message)

        self._jobs[name] = start_job(
            function, *arguments, on_finished=finished, on_failed=failed
        )

    def _on_source(self, key: str, source: ImageSource) -> None:
        if self._record is None or key != self._record.key:
            source.close()  # the user moved on while it opened
            return
        self.source = source
        rect = QRectF(0, 0, *source.size)
        if rect != self.frame_item.rect():
            self.frame_item.setRect(rect)
            self.view.set_content(rect)
        self.layers.show_source(source)
        self.scale_bar.microns_per_pixel = source.microns_per_pixel
        self.minimap.show_source(source, self.cache)
        self.view.viewport().update()
        self.source_opened.emit(source)

    def _on_outlines(self, key: str, outlines: CellOutlines) -> None:
        if self._record is None or key != self._record.key:
            return
        self.annotation_outlines = outlines
        self.layers.show_annotations(outlines, self._palette, self.content_rect())
        self._on_selection(self.selection.image_key, self.selection.cells)
        self.annotations_ready.emit()

    def _on_failed(self, key: str, message: str) -> None:
        if self._record is None or key != self._record.key:
            return
        self.show_failure(key, message)

    def _on_tile_failed(self, message: str) -> None:
        if self._record is not None:
            self.show_failure(self._record.key, message)

    def show_failure(self, key: str, message: str) -> None:
        """Say in the viewer why image `key` cannot be shown; its outlines stay."""
        if self._record is None or key != self._record.key:
            return
        self.message.setText(f"This image cannot be shown. {message}")
        self.message.show()
        self.image_failed.emit(key, message)

    def clear(self) -> None:
        """Show nothing: no dataset, or a dataset without images."""
        self._close_source()
        self._record = None
        self.annotation_outlines = None
        self.message.hide()
        self.frame_item.setRect(QRectF())
        self.layers.show_annotations(None, None, QRectF())
        self.layers.clear_predictions()
        self.selection.select("", ())

    def _close_source(self) -> None:
        self.layers.show_source(None)
        self.minimap.show_source(None, None)
        self.scale_bar.microns_per_pixel = None
        if self.source is not None:
            self.source.close()
            self.source = None

    # -- cells and selection --------------------------------------------------------

    def set_tool(self, tool: ViewerTool) -> None:
        """Let `tool` receive mouse and key events over the image."""
        self.view.tool.deactivate()
        tool.activate(self)
        self.view.set_tool(tool)

    def cell_at(self, point: QPointF) -> int | None:
        """The index of the saved cell under an image point, or None."""
        outlines = self.annotation_outlines
        if outlines is None:
            return None
        row = outlines.row_at(point.x(), point.y())
        return None if row is None else int(outlines.cell_ids[row])

    def select_at(self, point: QPointF, extend: bool = False) -> None:
        """Select the cell under `point`; with `extend`, add or remove it."""
        if self._record is None:
            return
        cell = self.cell_at(point)
        if cell is None:
            if not extend:
                self.selection.clear()
        elif extend:
            self.selection.toggle(self._record.key, cell)
        else:
            self.selection.select(self._record.key, (cell,))

    def centre_on_cell(self, cell_index: int) -> None:
        """Bring a saved cell to the middle of the view, zooming in if it is tiny."""
        outlines = self.annotation_outlines
        row = None if outlines is None else outlines.row_of(cell_index)
        if row is None:
            return
        x_min, y_min, x_max, y_max = outlines.cytoplasm.bounds[row]
        size = max(x_max - x_min, y_max - y_min, 1.0)
        viewport = self.view.viewport().rect()
        if size * self.view.zoom() < 40:
            self.view.set_zoom(min(viewport.width(), viewport.height()) / (4 * size))
        self.view.centre_on(QPointF((x_min + x_max) / 2, (y_min + y_max) / 2))

    def _on_selection(self, key: str, cells: tuple) -> None:
        outlines = self.annotation_outlines
        layer = self.layers["annotations"]
        if outlines is None or self._record is None or key != self._record.key:
            layer.set_selected_rows(())
            return
        rows = [outlines.row_of(cell) for cell in cells]
        layer.set_selected_rows(row for row in rows if row is not None)

    @staticmethod
    def _outline_extent(record: ImageRecord) -> tuple[float, float]:
        """The size to frame when the image's own size is unknown."""
        if not record.cells:
            return 1.0, 1.0
        right = max(cell.bounds[2] for cell in record.cells)
        bottom = max(cell.bounds[3] for cell in record.cells)
        return right + 1.0, bottom + 1.0
