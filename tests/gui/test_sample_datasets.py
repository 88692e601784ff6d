"""The window on the datasets users meet first: the built-in synthetic sample
(drawn by engine.synthetic) and a real Herlev dataset imported by the engine."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import engine.sample
import engine.synthetic
from cervix_gui.app import main
from cervix_gui.dataset_browser import CLASS_NAME_ROLE, IMAGE_KEY_ROLE
from cervix_gui.palette import ClassPalette
from engine.annotations import SIPAKMED_CLASSES, Dataset

HERLEV_CLASS_NAMES = [
    "normal_superficiel",
    "normal_intermediate",
    "normal_columnar",
    "light_dysplastic",
    "moderate_dysplastic",
    "severe_dysplastic",
    "carcinoma_in_situ",
]


@pytest.fixture(scope="session")
def drawn_sample(tmp_path_factory):
    """A small synthetic sample as `cervix synth` draws it (one image a class)."""
    folder = tmp_path_factory.mktemp("drawn") / "sipakmed-synthetic"
    return engine.synthetic.make_dataset(folder, images_per_class=1, seed=7)


@pytest.fixture(scope="session")
def herlev_dataset(tmp_path_factory, shared_data):
    from engine.annotations.importers.herlev import import_herlev

    destination = tmp_path_factory.mktemp("imported") / "herlev"
    import_herlev(shared_data / "herlev", destination)
    return destination


def _rows(browser):
    tree = browser.tree
    return [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]


def _drawn_outlines_match(window, drawn, key):
    record = window.dataset.image(key)
    palette = ClassPalette(window.dataset.scheme)
    outlines = drawn(window)
    cells = {cell.index: cell for cell in record.cells}
    assert sorted(outline.cell_index for outline in outlines) == sorted(cells)
    for outline in outlines:
        cell = cells[outline.cell_index]
        assert outline.colour == palette.colour(cell.class_name)
        assert outline.nucleus_colour == palette.nucleus_colour(cell.class_name)
        assert outline.bounds == pytest.approx(cell.bounds, abs=1e-6)
        assert outline.has_nucleus == (cell.nucleus is not None)


def test_synthetic_sample_opens_marked_with_every_class(
    window, open_in, idle, drawn, drawn_sample
):
    assert open_in(drawn_sample)

    assert window.windowTitle().endswith("synthetic sample")
    assert not window.browser.synthetic_banner.isHidden()
    names = [row.data(0, CLASS_NAME_ROLE) for row in _rows(window.browser)]
    assert names == [c.name for c in SIPAKMED_CLASSES]
    dataset = Dataset.open(drawn_sample)
    for row in _rows(window.browser):
        cluster = row.child(0)
        key = cluster.data(0, IMAGE_KEY_ROLE)
        assert cluster.text(1) == str(len(dataset.image(key).cells))
        assert row.text(1) == cluster.text(1)  # one image a class; crops not added
        window.browser.select_image(key)
        idle()
        _drawn_outlines_match(window, drawn, key)
        assert window.viewer.has_pixels


def test_without_a_path_the_sample_is_drawn_and_shown(qapp, tmp_path, monkeypatch):
    monkeypatch.setattr(engine.sample, "checkout_sample_path", lambda: None)
    real_make_dataset = engine.synthetic.make_dataset

    def smaller(path, images_per_class, seed):
        # One image a class keeps the test quick; the code path is the same.
        return real_make_dataset(path, images_per_class=1, seed=seed)

    monkeypatch.setattr(engine.synthetic, "make_dataset", smaller)
    output = tmp_path / "first-start.png"

    assert main(["--screenshot", str(output), "--size", "1000x700"]) == 0

    sample = engine.sample.user_sample_path()
    assert engine.sample.is_dataset_ready(sample)
    assert Dataset.open(sample).settings.synthetic
    with Image.open(output) as picture:
        assert picture.size == (1000, 700)
        # The yellow synthetic banner is in the picture.
        pixels = np.asarray(picture.convert("RGB")).reshape(-1, 3).astype(int)
    banner = (np.abs(pixels - np.array([0xFF, 0xF1, 0xC2])).sum(axis=1) < 6).sum()
    assert banner > 2000


def test_imported_herlev_shows_its_own_classes_and_outlines(
    window, open_in, idle, drawn, herlev_dataset
):
    assert open_in(herlev_dataset)

    assert window.legend.class_names() == HERLEV_CLASS_NAMES
    assert "synthetic" not in window.windowTitle()
    assert window.browser.synthetic_banner.isHidden()
    dataset = window.dataset
    listed = [row.data(0, CLASS_NAME_ROLE) for row in _rows(window.browser)]
    with_images = [n for n in HERLEV_CLASS_NAMES if dataset.counts()[n]["images"]]
    assert listed == with_images
    assert len(listed) >= 5  # the shared sample holds five of the seven classes
    palette = ClassPalette(dataset.scheme)
    for row in _rows(window.browser):
        class_name = row.data(0, CLASS_NAME_ROLE)
        hue = palette.colour(class_name).hsvHueF() * 360.0
        if dataset.scheme.group_of(class_name) == "abnormal":
            assert hue <= 45.0 or hue >= 290.0
        else:
            assert 120.0 <= hue <= 230.0
        # Herlev cells are single-cell images, listed straight under the class.
        for i in range(row.childCount()):
            key = row.child(i).data(0, IMAGE_KEY_ROLE)
            assert key.startswith(f"im_{class_name}/CROPPED/")
            window.browser.select_image(key)
            idle()
            assert window.viewer.record.key == key
            assert window.viewer.has_pixels
            _drawn_outlines_match(window, drawn, key)
            assert window.status.cells_label.text() == "1 cell"
