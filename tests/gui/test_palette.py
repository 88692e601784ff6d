"""Class colours: SIPaKMeD's fixed, meaningful colours, and distinct, stable ones
for other schemes."""

from __future__ import annotations

import itertools

from PySide6.QtGui import QColor

from cervix_gui.palette import FIXED_COLOURS, ClassPalette
from engine.annotations import CellClass, ClassScheme


def _hue(colour: QColor) -> float:
    return colour.hsvHueF() * 360.0


def _is_warm(colour: QColor) -> bool:
    hue = _hue(colour)
    return hue <= 45.0 or hue >= 290.0


def _is_cool(colour: QColor) -> bool:
    return 120.0 <= _hue(colour) <= 230.0


def test_sipakmed_classes_have_their_fixed_meaningful_colours():
    palette = ClassPalette(ClassScheme())

    for name, colour in FIXED_COLOURS.items():
        assert palette.colour(name) == QColor(colour)
    assert _is_cool(palette.colour("superficial-intermediate"))
    assert _is_cool(palette.colour("parabasal"))
    assert 40.0 <= _hue(palette.colour("metaplastic")) <= 60.0
    assert _is_warm(palette.colour("koilocytotic"))
    assert _is_warm(palette.colour("dyskeratotic"))


def test_nucleus_is_a_pale_tint_of_its_class_that_shows_on_dark_nuclei():
    palette = ClassPalette(ClassScheme())
    for name in ClassScheme().names:
        cell, nucleus = palette.colour(name), palette.nucleus_colour(name)
        assert nucleus.valueF() >= cell.valueF()
        assert nucleus.saturationF() < cell.saturationF() * 0.5
        assert abs(_hue(nucleus) - _hue(cell)) < 2.0
        # Far brighter than a stained nucleus (dark blue-violet, value ~0.3).
        assert nucleus.lightnessF() > 0.75


HERLEV_LIKE = ClassScheme(
    classes=(
        CellClass("normal_superficiel", "normal_superficiel", "normal"),
        CellClass("normal_intermediate", "normal_intermediate", "normal"),
        CellClass("normal_columnar", "normal_columnar", "normal"),
        CellClass("light_dysplastic", "light_dysplastic", "abnormal"),
        CellClass("moderate_dysplastic", "moderate_dysplastic", "abnormal"),
        CellClass("severe_dysplastic", "severe_dysplastic", "abnormal"),
        CellClass("carcinoma_in_situ", "carcinoma_in_situ", "abnormal"),
    )
)


def test_other_schemes_get_distinct_colours_warm_for_abnormal():
    palette = ClassPalette(HERLEV_LIKE)
    colours = {name: palette.colour(name) for name in HERLEV_LIKE.names}

    for first, second in itertools.combinations(colours.values(), 2):
        hue_gap = abs(_hue(first) - _hue(second))
        assert min(hue_gap, 360.0 - hue_gap) >= 20.0
    for cell_class in HERLEV_LIKE.classes:
        colour = colours[cell_class.name]
        assert _is_warm(colour) if cell_class.group == "abnormal" else _is_cool(colour)


def test_colours_are_stable_for_a_scheme():
    first = ClassPalette(HERLEV_LIKE)
    second = ClassPalette(HERLEV_LIKE)
    for name in HERLEV_LIKE.names:
        assert first.colour(name) == second.colour(name)


def test_an_unknown_class_is_grey_not_an_error():
    palette = ClassPalette(ClassScheme())
    colour = palette.colour("no-such-class")
    assert colour.saturationF() < 0.05
    assert palette.label("no-such-class") == "no-such-class"
