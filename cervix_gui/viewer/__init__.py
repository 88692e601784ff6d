"""The image viewer: a zoomable view of one image and its stack of overlay layers."""

from cervix_gui.viewer.cell_outlines import CellOutlineLayer, OutlineItem
from cervix_gui.viewer.image_viewer import ImageViewer
from cervix_gui.viewer.zoomable_view import ZoomableView

__all__ = ["CellOutlineLayer", "ImageViewer", "OutlineItem", "ZoomableView"]
