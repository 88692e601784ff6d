"""The viewer's layers, bottom to top, and what each shows: the image, the U-Net
mask, the Grad-CAM heatmap, the classification, the saved annotations and the
Mask R-CNN instances. Prediction layers read what the PredictionStore holds."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

from cervix_gui.palette import ClassPalette
from cervix_gui.viewer.layer import Layer
from cervix_gui.viewer.outline_drawing import OutlineStyle
from cervix_gui.viewer.outline_layer import OutlineLayer
from cervix_gui.viewer.tile_layer import TileLayer
from cervix_gui.viewer.tile_sources import CELL_RGB, NUCLEUS_RGB, SourceTiles
from engine.images import ImageSource, TileCache, open_image
from engine.images.cell_outlines import CellOutlines

log = logging.getLogger(__name__)

INSTANCE_COLOUR = QColor("#00e5ff")
NUCLEUS_TINT = 0.3  # of the outline colour's saturation, for a pale nucleus line
CLASS_FILL_ALPHA = 0.38
NO_PREDICTIONS = "No predictions for this image yet: run the models on it first."

# name, title, default shortcut, z value
LAYER_SPECS = [
    ("image", "Image", "Alt+1", 0.0),
    ("mask", "U-Net mask", "Alt+4", 5.0),
    ("heatmap", "Grad-CAM heatmap", "Alt+6", 6.0),
    ("classification", "Classification", "Alt+5", 8.0),
    ("annotations", "Annotations", "Alt+2", 10.0),
    ("instances", "Mask R-CNN instances", "Alt+3", 12.0),
]

# The colours a user may change: role -> (layer, what it colours, default).
# Annotations and classification are coloured by class, the image and the
# heatmap by their own pixels and colour scale.
LAYER_COLOURS = {
    "instances": ("instances", "Outlines", INSTANCE_COLOUR),
    "mask-cells": ("mask", "Cells", QColor(*CELL_RGB)),
    "mask-nuclei": ("mask", "Nuclei", QColor(*NUCLEUS_RGB)),
}


def annotation_style(outlines: CellOutlines, palette: ClassPalette) -> OutlineStyle:
    """Each cell in its class colour, its nucleus in a pale tint of it."""
    return OutlineStyle(
        colours=[palette.colour(name) for name in outlines.class_names],
        nucleus_colours=[palette.nucleus_colour(name) for name in outlines.class_names],
    )


def instance_style(
    outlines: CellOutlines, colour: QColor = INSTANCE_COLOUR
) -> OutlineStyle:
    """Every instance in one colour: the model's outline, whatever its class; its
    nucleus in a pale tint of it, which stays visible on a dark nucleus."""
    count = len(outlines.class_names)
    nucleus = QColor.fromHsvF(
        max(colour.hsvHueF(), 0.0), colour.hsvSaturationF() * NUCLEUS_TINT, 1.0
    )
    return OutlineStyle(
        colours=[QColor(colour)] * count,
        nucleus_colours=[nucleus] * count,
        width=1.6,
        nucleus_width=1.2,
    )


def classification_style(outlines: CellOutlines, palette: ClassPalette) -> OutlineStyle:
    """Cells filled in the colour of their predicted class, with a badge of the
    class and its probability when zoomed in."""
    return OutlineStyle(
        colours=[palette.colour(name) for name in outlines.class_names],
        fill_alpha=CLASS_FILL_ALPHA,
        outline=False,
        nuclei=False,
        badges=[palette.label(name) if name else "?" for name in outlines.class_names],
    )


class LayerStack:
    """Creates the layers in a scene and fills them for one image at a time."""

    def __init__(self, scene, cache: TileCache):
        self.cache = cache
        self.layers: dict[str, Layer] = {}
        self.shortcuts: dict[str, str] = {}
        for name, title, shortcut, z_value in LAYER_SPECS:
            if name in ("image", "mask", "heatmap"):
                layer = TileLayer(name, title, z_value)
            else:
                layer = OutlineLayer(name, title, z_value)
            self.layers[name] = layer
            self.shortcuts[name] = shortcut
            scene.addItem(layer)
        for name in ("mask", "heatmap", "classification", "instances"):
            self.layers[name].set_unavailable(NO_PREDICTIONS)
        self._rasters: dict[str, ImageSource] = {}
        self._raster_sizes: dict[str, tuple | None] = {}
        self.colours = {role: QColor(spec[2]) for role, spec in LAYER_COLOURS.items()}

    def __getitem__(self, name: str) -> Layer:
        return self.layers[name]

    def ordered(self) -> list[Layer]:
        """Top layer first, as a layers list shows them."""
        return sorted(self.layers.values(), key=lambda layer: -layer.zValue())

    def busy(self) -> bool:
        return any(layer.busy() for layer in self.layers.values())

    def show_source(self, source: ImageSource | None) -> None:
        provider = None if source is None else SourceTiles(source, self.cache, "image")
        self.layers["image"].set_provider(provider)

    def show_annotations(self, outlines, palette, extent: QRectF) -> None:
        layer = self.layers["annotations"]
        if outlines is None:
            layer.set_outlines(None, extent=extent)
            return
        layer.set_outlines(outlines, annotation_style(outlines, palette), extent)
        layer.set_unavailable("" if len(outlines) else "This image has no saved cells.")

    def show_predicted_cells(
        self, outlines, palette, extent: QRectF, reason=""
    ) -> None:
        """Instances and classification from predicted cells (None: say why not)."""
        instances = self.layers["instances"]
        classes = self.layers["classification"]
        if outlines is None or len(outlines) == 0:
            for layer in (instances, classes):
                layer.set_outlines(None, extent=extent)
                layer.set_unavailable(reason or NO_PREDICTIONS)
            return
        instances.set_outlines(
            outlines, instance_style(outlines, self.colours["instances"]), extent
        )
        instances.set_unavailable("")
        classified = any(outlines.class_names)
        classes.set_outlines(outlines, classification_style(outlines, palette), extent)
        classes.set_unavailable(
            "" if classified else "These cells were not classified: run the classifier."
        )

    def recolour_classes(self, palette: ClassPalette) -> None:
        """Redraw the cells coloured by class in `palette`'s colours."""
        annotations = self.layers["annotations"]
        if annotations.outlines is not None:
            annotations.set_style(annotation_style(annotations.outlines, palette))
        classes = self.layers["classification"]
        if classes.outlines is not None:
            classes.set_style(classification_style(classes.outlines, palette))

    def show_raster(
        self, name: str, path: Path | None, reason: str = "", shown_size=None
    ) -> None:
        """The mask or heatmap stored at `path`, stretched over `shown_size`
        (the image's width and height); None: say why there is none."""
        layer = self.layers[name]
        old = self._rasters.pop(name, None)
        if old is not None:
            old.close()
        if path is None:
            layer.set_provider(None)
            layer.set_unavailable(reason or NO_PREDICTIONS)
            return
        # Opening reads only the file's header, even for a pyramidal slide mask.
        source = open_image(path)
        self._rasters[name] = source
        self._raster_sizes[name] = shown_size
        layer.set_provider(self._raster_tiles(name))
        layer.set_unavailable("")

    def _raster_tiles(self, name: str) -> SourceTiles:
        if name == "heatmap":
            kind, colours = "heatmap", None
        else:
            kind = "mask"
            colours = tuple(
                self.colours[role].getRgb()[:3]
                for role in ("mask-cells", "mask-nuclei")
            )
        return SourceTiles(
            self._rasters[name], self.cache, kind, self._raster_sizes[name], colours
        )

    def set_colour(self, role: str, colour: QColor) -> None:
        """Draw the part `role` of LAYER_COLOURS in `colour` from now on."""
        if role not in LAYER_COLOURS:
            raise KeyError(f"no layer colour called {role!r}")
        if QColor(colour) == self.colours[role]:
            return
        self.colours[role] = QColor(colour)
        name = LAYER_COLOURS[role][0]
        layer = self.layers[name]
        if name == "instances" and layer.outlines is not None:
            layer.set_style(instance_style(layer.outlines, self.colours[role]))
        elif name in self._rasters:
            layer.set_provider(self._raster_tiles(name))

    def clear_predictions(self, reason: str = "") -> None:
        self.show_predicted_cells(None, None, QRectF(), reason)
        self.show_raster("mask", None, reason)
        self.show_raster("heatmap", None, reason)
