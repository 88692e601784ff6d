"""Colours of the cell classes: one stable, distinct colour per class of a dataset.

SIPaKMeD's five classes have fixed colours that read as a scale: normal cells
cool (green, blue), metaplastic yellow, abnormal warm (orange, red). Other
schemes get colours spread over the same hue ranges by group, in the scheme's
order, so a dataset always shows the same colours and abnormal always looks warm.
A user may choose other colours for classes (a preference), for every palette.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from engine.annotations import ClassScheme

FIXED_COLOURS = {
    "superficial-intermediate": "#2fbf71",
    "parabasal": "#3d8fe0",
    "metaplastic": "#f2c418",
    "koilocytotic": "#ff8a1f",
    "dyskeratotic": "#e8334a",
}

# Hue ranges in degrees per group; a range is walked from its first to its last
# hue, so with more classes in a group the colours move along it.
GROUP_HUES = {
    "normal": (135.0, 215.0),  # green to blue
    "benign": (52.0, 44.0),  # yellow to amber
    "abnormal": (32.0, -58.0),  # orange, red, to magenta (302)
}
UNKNOWN_COLOUR = "#9e9e9e"
NUCLEUS_SATURATION = 0.35  # of the class colour's, for the pale nucleus tint

# The colours the user chose, by class name: application-wide, like the window's
# other preferences, so palettes made for any dataset use them.
_chosen_colours: dict[str, QColor] = {}


def choose_class_colours(colours: dict[str, QColor]) -> None:
    """Draw these classes in these colours in palettes made or recoloured from
    now on; the classes not named go back to their own colours."""
    _chosen_colours.clear()
    _chosen_colours.update({name: QColor(c) for name, c in colours.items()})


class ClassPalette:
    """The colours of one class scheme's classes, for outlines and the legend."""

    def __init__(self, scheme: ClassScheme):
        self.scheme = scheme
        self._colours: dict[str, QColor] = {}
        self.recolour()

    def recolour(self) -> bool:
        """Take up the colours the user chose since; True when any changed."""
        colours: dict[str, QColor] = {}
        for group, (first, last) in GROUP_HUES.items():
            names = [c.name for c in self.scheme.classes if c.group == group]
            for position, name in enumerate(names):
                if name in _chosen_colours:
                    colours[name] = QColor(_chosen_colours[name])
                elif name in FIXED_COLOURS:
                    colours[name] = QColor(FIXED_COLOURS[name])
                else:
                    share = position / (len(names) - 1) if len(names) > 1 else 0.0
                    hue = (first + (last - first) * share) % 360.0
                    colours[name] = QColor.fromHsvF(hue / 360.0, 0.80, 0.95)
        changed = colours != self._colours
        self._colours = colours
        return changed

    def colour(self, class_name: str) -> QColor:
        """The class's colour: the cell outline and the legend swatch."""
        return QColor(self._colours.get(class_name, QColor(UNKNOWN_COLOUR)))

    def nucleus_colour(self, class_name: str) -> QColor:
        """A pale tint of the class colour, for the nucleus outline: stained
        nuclei are dark, so a light line stays visible on them."""
        colour = self.colour(class_name)
        return QColor.fromHsvF(
            max(colour.hsvHueF(), 0.0),
            colour.hsvSaturationF() * NUCLEUS_SATURATION,
            1.0,
        )

    def label(self, class_name: str) -> str:
        """The class's name as a person reads it."""
        try:
            return self.scheme.by_name(class_name).label
        except KeyError:
            return class_name


def swatch_icon(palette: ClassPalette, class_name: str, size: int = 16) -> QIcon:
    """A small picture of a cell in the class's colours: outline and nucleus."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = palette.colour(class_name)
    fill = QColor(colour)
    fill.setAlphaF(0.45)
    painter.setPen(QPen(colour, max(size / 9.0, 1.5)))
    painter.setBrush(fill)
    inset = size / 10.0
    painter.drawEllipse(QRectF(inset, inset, size - 2 * inset, size - 2 * inset))
    painter.setPen(QPen(colour.darker(150), 1.0))
    painter.setBrush(palette.nucleus_colour(class_name))
    radius = size / 5.5
    centre = size / 2.0
    painter.drawEllipse(
        QRectF(centre - radius, centre - radius, 2 * radius, 2 * radius)
    )
    painter.end()
    return QIcon(pixmap)
