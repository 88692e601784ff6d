"""The image viewer: tiles at the right pyramid level, a stack of layers drawn for
the visible region only, the selection, and the tools that receive mouse events."""

from cervix_gui.viewer.image_viewer import ImageViewer
from cervix_gui.viewer.outline_layer import OutlineLayer
from cervix_gui.viewer.selection import CellSelection
from cervix_gui.viewer.tile_layer import TileLayer
from cervix_gui.viewer.tools import PanSelectTool, ToolEvent, ViewerTool
from cervix_gui.viewer.zoomable_view import ZoomableView

__all__ = [
    "CellSelection",
    "ImageViewer",
    "OutlineLayer",
    "PanSelectTool",
    "TileLayer",
    "ToolEvent",
    "ViewerTool",
    "ZoomableView",
]
