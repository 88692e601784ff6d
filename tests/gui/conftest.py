"""Small datasets drawn on the fly for the window's tests, and an isolated user
data folder so no test touches the real one."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

# class folder -> image stem -> cells as (centre x, centre y, radius); each cell
# gets an elliptic outline and a nucleus a third of its size.
SMALL_LAYOUT = {
    "im_Parabasal": {
        "001": [(60, 60, 30), (150, 90, 40), (250, 160, 35)],
        "002": [(100, 100, 50)],
    },
    "im_Metaplastic": {"001": [(80, 120, 45), (220, 80, 30)]},
    "im_Koilocytotic": {
        "001": [(160, 120, 60)],
        "002": [(70, 70, 25), (200, 150, 45)],
    },
}
FOLDER_CLASSES = {
    "im_Parabasal": "parabasal",
    "im_Metaplastic": "metaplastic",
    "im_Koilocytotic": "koilocytotic",
}
IMAGE_SIZE = (320, 240)


def ellipse(
    cx: float, cy: float, rx: float, ry: float, vertices: int = 24
) -> np.ndarray:
    angles = np.linspace(0.0, 2.0 * math.pi, vertices, endpoint=False)
    return np.column_stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)])


def write_dat(path: Path, polygon: np.ndarray) -> None:
    path.write_text("".join(f"{x:.2f},{y:.2f}\n" for x, y in polygon))


def draw_dataset(root: Path, layout=SMALL_LAYOUT, synthetic: bool = False) -> Path:
    """A SIPaKMeD-layout dataset with BMP images and exact `.dat` outlines."""
    for folder, images in layout.items():
        directory = root / folder / folder
        directory.mkdir(parents=True)
        for stem, cells in images.items():
            picture = Image.new("RGB", IMAGE_SIZE, (214, 196, 206))
            pen = ImageDraw.Draw(picture)
            for index, (cx, cy, radius) in enumerate(cells, start=1):
                cytoplasm = ellipse(cx, cy, radius, radius * 0.8)
                nucleus = ellipse(cx, cy, radius / 3, radius / 3.5)
                pen.polygon([tuple(p) for p in cytoplasm], fill=(150, 190, 200))
                pen.polygon([tuple(p) for p in nucleus], fill=(70, 60, 120))
                write_dat(directory / f"{stem}_cyt{index:02d}.dat", cytoplasm)
                write_dat(directory / f"{stem}_nuc{index:02d}.dat", nucleus)
            picture.save(directory / f"{stem}.bmp")
    if synthetic:
        project = root / ".cervix"
        project.mkdir()
        from engine.annotations import ProjectSettings

        settings = ProjectSettings(synthetic=True, source="test")
        (project / "project.json").write_text(json.dumps(settings.to_json()))
    return root


def add_crops(root: Path, folder: str, stem: str, margin: int = 6) -> None:
    """Cut each cell of one cluster image into CROPPED/, as SIPaKMeD does."""
    directory = root / folder / folder
    cropped = directory / "CROPPED"
    cropped.mkdir()
    with Image.open(directory / f"{stem}.bmp") as picture:
        cluster = picture.convert("RGB")
    for index, (cx, cy, radius) in enumerate(SMALL_LAYOUT[folder][stem], start=1):
        left, top = int(cx - radius - margin), int(cy - radius - margin)
        box = (left, top, int(cx + radius + margin), int(cy + radius + margin))
        cluster.crop(box).save(cropped / f"{stem}_{index:02d}.bmp")
        shift = np.array([left, top])
        cytoplasm = ellipse(cx, cy, radius, radius * 0.8) - shift
        write_dat(cropped / f"{stem}_{index:02d}_cyt.dat", cytoplasm)
        nucleus = ellipse(cx, cy, radius / 3, radius / 3.5) - shift
        write_dat(cropped / f"{stem}_{index:02d}_nuc.dat", nucleus)


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path_factory, monkeypatch) -> Path:
    """Keep the user's data folder (where the sample is drawn) inside the test."""
    folder = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("CERVIX_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def small_layout() -> dict:
    """What `small_dataset` holds: folder -> image stem -> (cx, cy, radius) per cell."""
    return SMALL_LAYOUT


@pytest.fixture
def image_size() -> tuple[int, int]:
    """The (width, height) of every image of `small_dataset`."""
    return IMAGE_SIZE


@pytest.fixture
def dataset_drawer():
    """`draw_dataset` itself, for tests that draw where the code under test asks."""
    return draw_dataset


@pytest.fixture
def small_dataset(tmp_path) -> Path:
    return draw_dataset(tmp_path / "small")


@pytest.fixture
def cropped_dataset(tmp_path) -> Path:
    """`small_dataset` with the cells of im_Parabasal/001 also cut out."""
    root = draw_dataset(tmp_path / "with-crops")
    add_crops(root, "im_Parabasal", "001")
    return root


@pytest.fixture
def synthetic_dataset(tmp_path) -> Path:
    return draw_dataset(tmp_path / "synthetic-small", synthetic=True)


@pytest.fixture
def window(qtbot):
    from cervix_gui.main_window import MainWindow

    main_window = MainWindow()
    main_window.resize(1200, 800)
    qtbot.addWidget(main_window)
    main_window.show()
    qtbot.waitExposed(main_window)
    return main_window
