"""Plots of the shown image's measurements (pyqtgraph): the N/C ratio by class as
histograms, and nucleus area against cell area, whose points select cells."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from cervix_gui.measurement_table import UNITS
from cervix_gui.palette import ClassPalette
from engine.metrics.measurements import CellMeasurements

MAX_HISTOGRAM_BINS = 30
POINT_SIZE = 7
SELECTED_SIZE = 15
AXIS_PEN = "#5f6368"


def _plain_numbers(plot) -> None:
    """Axes in the measurement's own unit: no "(x0.001)" scaling of the labels."""
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)


class NcHistogram(pg.PlotWidget):
    """How the N/C ratio is spread in each class: one outlined histogram each."""

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setMinimumHeight(120)
        self.setMenuEnabled(False)
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.15)
        _plain_numbers(plot)
        plot.setLabel("bottom", "N/C ratio")
        plot.setLabel("left", "cells")
        self.legend = plot.addLegend(offset=(-10, 10), labelTextColor=AXIS_PEN)
        self.counts: dict[str, np.ndarray] = {}  # class -> counts per bin

    def show_measurements(
        self, measurements: list[CellMeasurements], palette: ClassPalette | None
    ) -> None:
        plot = self.getPlotItem()
        plot.clear()
        self.legend.clear()
        self.counts = {}
        ratios = np.array(
            [m.nc_ratio for m in measurements if m.nc_ratio is not None], dtype=float
        )
        if len(ratios) == 0 or palette is None:
            return
        # About two bins per square root of the cells: a few cells are not
        # spread over bins that each hold one.
        bins = int(np.clip(2 * np.sqrt(len(ratios)), 4, MAX_HISTOGRAM_BINS))
        edges = np.histogram_bin_edges(ratios, bins=bins)
        for cell_class in palette.scheme.classes:
            values = [
                m.nc_ratio
                for m in measurements
                if m.class_name == cell_class.name and m.nc_ratio is not None
            ]
            if not values:
                continue
            counts, _ = np.histogram(values, bins=edges)
            self.counts[cell_class.name] = counts
            colour = palette.colour(cell_class.name)
            fill = pg.mkColor(colour)
            fill.setAlpha(60)
            curve = pg.PlotCurveItem(
                edges,
                counts,
                stepMode="center",
                fillLevel=0,
                brush=fill,
                pen=pg.mkPen(colour, width=2),
                name=palette.label(cell_class.name),
            )
            plot.addItem(curve)


class AreaScatter(pg.PlotWidget):
    """Nucleus area against cell area, one point per cell in its class colour;
    clicking a point emits `cell_clicked` with the cell's index."""

    cell_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setMinimumHeight(120)
        self.setMenuEnabled(False)
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.15)
        _plain_numbers(plot)
        plot.setLabel("bottom", "cell area")
        plot.setLabel("left", "nucleus area")
        self.points = pg.ScatterPlotItem(size=POINT_SIZE, pxMode=True, hoverable=True)
        self.points.sigClicked.connect(self._on_clicked)
        self.selected = pg.ScatterPlotItem(
            size=SELECTED_SIZE,
            pxMode=True,
            brush=pg.mkBrush(None),
            pen=pg.mkPen("#111111", width=2.5),
        )
        plot.addItem(self.points)
        plot.addItem(self.selected)
        self._positions: dict[int, tuple[float, float]] = {}

    def show_measurements(
        self, measurements: list[CellMeasurements], palette: ClassPalette | None
    ) -> None:
        plotted = [m for m in measurements if m.nucleus_area is not None]
        self._positions = {m.cell_index: (m.area, m.nucleus_area) for m in plotted}
        unit = UNITS.get(plotted[0].area_unit, "px\u00b2") if plotted else "px\u00b2"
        plot = self.getPlotItem()
        plot.setLabel("bottom", f"cell area ({unit})")
        plot.setLabel("left", f"nucleus area ({unit})")
        brushes = {}
        if palette is not None:
            for cell_class in palette.scheme.classes:
                colour = pg.mkColor(palette.colour(cell_class.name))
                colour.setAlpha(200)
                brushes[cell_class.name] = pg.mkBrush(colour)
        grey = pg.mkBrush(150, 150, 150, 200)
        self.points.setData(
            x=[m.area for m in plotted],
            y=[m.nucleus_area for m in plotted],
            data=[m.cell_index for m in plotted],
            brush=[brushes.get(m.class_name, grey) for m in plotted],
            pen=pg.mkPen(255, 255, 255, 160, width=0.8),
        )
        self.selected.setData([], [])
        plot.enableAutoRange()

    def position_of(self, cell_index: int) -> tuple[float, float] | None:
        """(cell area, nucleus area) of a plotted cell."""
        return self._positions.get(cell_index)

    def show_selection(self, cells) -> None:
        """Ring the points of the selected cells."""
        shown = [self._positions[cell] for cell in cells if cell in self._positions]
        self.selected.setData(
            x=[x for x, _ in shown],
            y=[y for _, y in shown],
            data=list(cells)[: len(shown)],
        )

    def _on_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.cell_clicked.emit(int(points[0].data()))
