"""Small datasets drawn on the fly for the window's tests, and an isolated user
data folder so no test touches the real one."""

from __future__ import annotations

import gc
import json
import math
import time
from pathlib import Path
from types import SimpleNamespace

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


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    """Keep QSettings (recent files) in a test folder, never the user's."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder)
    )
    return folder


@pytest.fixture(autouse=True)
def garbage_collected_when_quiet(qtbot):
    """No automatic garbage collection while a test runs; after it (its windows
    closed by pytest-qt), wait until no job and no tile is being worked on, then
    collect.

    Two full runs hung with the GUI thread collecting garbage (earlier tests'
    closed windows) in the middle of a test, while pool threads were opening a
    slide through zarr, and the collector never returned."""
    gc.disable()
    yield
    from PySide6.QtWidgets import QApplication

    from cervix_gui import workers
    from cervix_gui.viewer.tiles import tile_pool

    deadline = time.monotonic() + QUIET_TIMEOUT_S
    while time.monotonic() < deadline and (
        workers.running_jobs() or tile_pool().activeThreadCount()
    ):
        QApplication.processEvents()
        time.sleep(0.01)
    gc.collect()
    gc.enable()


QUIET_TIMEOUT_S = 60
OPEN_TIMEOUT_MS = 20000  # generous: tests must not depend on the machine's speed


@pytest.fixture
def open_in(window, qtbot):
    """Open a path in `window` and wait until it is shown, or refused; True when
    something new is shown."""

    def open_path(path) -> bool:
        outcome = []
        window.opener.opened.connect(lambda *_: outcome.append(True))
        window.opener.failed.connect(lambda *_: outcome.append(False))
        window.open_path(Path(path))
        qtbot.waitUntil(lambda: bool(outcome), timeout=OPEN_TIMEOUT_MS)
        wait_until_idle(window, qtbot)
        return outcome[0]

    return open_path


def wait_until_idle(window, qtbot) -> None:
    """Wait until every job and tile the window asked for has come back."""
    qtbot.waitUntil(lambda: not window.busy(), timeout=OPEN_TIMEOUT_MS)


@pytest.fixture
def idle(window, qtbot):
    """Call to wait until the window has drawn everything it asked for."""
    return lambda: wait_until_idle(window, qtbot)


@pytest.fixture
def window(qtbot):
    from cervix_gui.main_window import MainWindow

    main_window = MainWindow()
    main_window.resize(1200, 800)
    qtbot.addWidget(main_window)
    main_window.show()
    qtbot.waitExposed(main_window)
    return main_window


@pytest.fixture
def drawn():
    """`drawn_outlines(window)`: what the annotations layer draws."""
    return drawn_outlines


def drawn_outlines(window) -> list[SimpleNamespace]:
    """What the annotations layer draws, one entry per cell: its index, class,
    line colours, box, and whether its nucleus is drawn too."""
    layer = window.viewer.layers["annotations"]
    outlines, style = layer.outlines, layer.style
    if outlines is None:
        return []
    with_nucleus = set(outlines.nucleus_rows.tolist())
    drawn = []
    for row in range(len(outlines)):
        code = int(outlines.class_codes[row])
        drawn.append(
            SimpleNamespace(
                cell_index=int(outlines.cell_ids[row]),
                class_name=outlines.class_names[code],
                colour=style.colour(code),
                nucleus_colour=style.nucleus_colour(code),
                bounds=tuple(float(v) for v in outlines.cytoplasm.bounds[row]),
                has_nucleus=row in with_nucleus,
            )
        )
    return drawn


@pytest.fixture
def predicted_dataset(tmp_path) -> Path:
    """`small_dataset` with a stored model run for im_Parabasal/001: a predicted
    cell per annotated one (classified koilocytotic at 0.8), a U-Net mask and a
    Grad-CAM heatmap."""
    from engine.predictions import ImagePredictions, PredictedCell, PredictionStore

    root = draw_dataset(tmp_path / "predicted")
    store = PredictionStore.for_dataset(root)
    cells = [
        PredictedCell(
            id=index,
            cytoplasm=ellipse(cx + 2, cy, radius, radius * 0.8),
            nucleus=ellipse(cx + 2, cy, radius / 3, radius / 3.5),
            score=0.9,
            probabilities={"koilocytotic": 0.8, "parabasal": 0.2},
            predicted_class="koilocytotic",
        )
        for index, (cx, cy, radius) in enumerate(
            SMALL_LAYOUT["im_Parabasal"]["001"], start=1
        )
    ]
    store.save_cells(
        "run-1",
        ImagePredictions(
            "im_Parabasal/001", IMAGE_SIZE, cells, classes=["koilocytotic"]
        ),
    )
    width, height = IMAGE_SIZE
    mask = np.zeros((height, width, 2), np.float32)
    mask[40:200, 20:300, 0] = 1.0  # cells
    mask[80:120, 130:170, 1] = 1.0  # a nucleus
    store.save_mask("run-1", "im_Parabasal/001", mask)
    heat = np.zeros((height, width), np.float32)
    heat[:, width // 2 :] = 1.0
    store.save_gradcam("run-1", "im_Parabasal/001", heat)
    return root


@pytest.fixture
def small_slide(tmp_path_factory) -> Path:
    """A 2048 x 2048 pyramidal synthetic slide with its cells beside it."""
    from engine.images.synth_slide import write_synthetic_slide

    folder = tmp_path_factory.mktemp("slide")
    return write_synthetic_slide(folder / "smear.ome.tif", (2048, 2048), seed=2).path
