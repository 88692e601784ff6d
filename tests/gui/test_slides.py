"""A slide: only the visible tiles of the level the zoom needs are read, in worker
threads, a coarser level stands in until they come, and the window keeps
answering meanwhile; the minimap and the scale bar find their way around it."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QElapsedTimer, QPointF, Qt, QTimer

from cervix_gui.viewer import tile_sources
from cervix_gui.viewer.tools import ViewerTool


def _cached_tiles(window) -> set[tuple[int, int, int]]:
    """(level, x, y) of every tile of the shown image in the tile cache."""
    source_id = window.viewer.source.source_id
    keys = list(window.viewer.cache._tiles)
    return {key[1:] for key in keys if key[0] == source_id}


def test_a_slide_opens_with_its_cells_a_minimap_and_a_scale_bar(
    window, open_in, small_slide
):
    assert open_in(small_slide)

    viewer = window.viewer
    assert viewer.record.size == (2048, 2048)
    assert viewer.layers["annotations"].cell_count() == len(viewer.record.cells) > 10
    assert viewer.source.level_count > 1
    assert viewer.minimap.isVisible()
    assert "\u00b5m" in viewer.scale_bar.last_label
    assert window.status.image_label.text() == "2048 \u00d7 2048 px"
    assert window.browser_dock.isHidden()  # no dataset to browse
    # Fitted into the window, no level-0 tile was needed.
    assert _cached_tiles(window)
    assert all(level > 0 for level, _, _ in _cached_tiles(window))


def test_zooming_in_reads_only_the_visible_tiles_of_level_0(
    window, open_in, idle, small_slide
):
    open_in(small_slide)
    view = window.viewer.view
    view.set_zoom(1.0)
    view.centre_on(QPointF(300, 300))
    window.viewer.view.viewport().repaint()
    idle()

    visible = view.visible_rect()
    level_0 = {(x, y) for level, x, y in _cached_tiles(window) if level == 0}
    tile = window.viewer.source.tile_size
    assert level_0
    for x, y in level_0:
        assert x * tile < visible.right() and (x + 1) * tile > visible.left()
        assert y * tile < visible.bottom() and (y + 1) * tile > visible.top()
    assert len(level_0) < (2048 // tile) ** 2


@pytest.fixture
def slow_tiles(monkeypatch):
    """Sharp (level-0) tiles take a while to come, as on a slow disk."""
    render = tile_sources.SourceTiles.render

    def slowly(self, level, tile_x, tile_y):
        if level == 0:
            time.sleep(0.15)
        return render(self, level, tile_x, tile_y)

    monkeypatch.setattr(tile_sources.SourceTiles, "render", slowly)


def test_a_coarser_level_stands_in_until_the_sharp_tiles_arrive(
    window, open_in, idle, qtbot, small_slide, slow_tiles
):
    open_in(small_slide)
    view = window.viewer.view
    image_layer = window.viewer.layers["image"]

    view.set_zoom(2.0)
    view.centre_on(QPointF(1000, 1000))
    view.viewport().repaint()

    assert image_layer.busy()
    assert not any(level == 0 for level, _, _ in _cached_tiles(window))
    # What is drawn meanwhile is the slide, from a coarser level, not blank.
    picture = view.viewport().grab().toImage()
    centre = picture.pixelColor(picture.width() // 2, picture.height() // 2)
    assert centre.lightness() > 120  # pale slide, not the dark placeholder
    idle()
    assert any(level == 0 for level, _, _ in _cached_tiles(window))


def test_the_window_answers_while_tiles_load(
    window, open_in, idle, qtbot, small_slide, slow_tiles
):
    open_in(small_slide)
    view = window.viewer.view
    clock = QElapsedTimer()
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    clock.start()
    timer.start()

    view.set_zoom(1.5)
    for x, y in ((400, 400), (1500, 500), (700, 1600), (1700, 1700)):
        view.centre_on(QPointF(x, y))
        qtbot.wait(60)
    loading = window.viewer.layers["image"].busy()
    idle()
    timer.stop()

    assert loading  # the ticks were measured while tiles were on their way
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 20
    assert max(gaps) < 500


def test_clicking_the_minimap_moves_the_view_there(window, open_in, qtbot, small_slide):
    open_in(small_slide)
    view = window.viewer.view
    view.set_zoom(1.0)
    minimap = window.viewer.minimap
    scale = minimap.image.width() / 2048

    qtbot.mouseClick(
        minimap,
        Qt.MouseButton.LeftButton,
        pos=QPointF(2 + 1500 * scale, 2 + 500 * scale).toPoint(),
    )

    centre = view.mapToScene(view.viewport().rect().center())
    assert centre.x() == pytest.approx(1500, abs=20)
    assert centre.y() == pytest.approx(500, abs=20)
    assert minimap.view_rect().center().x() == pytest.approx(2 + 1500 * scale, abs=3)


def test_arrow_keys_pan_and_space_drag_pans_whatever_the_tool(
    window, open_in, qtbot, small_slide
):
    open_in(small_slide)
    view = window.viewer.view
    view.set_zoom(1.0)
    view.centre_on(QPointF(1000, 1000))
    view.setFocus()

    def centre():
        return view.mapToScene(view.viewport().rect().center())

    before = centre()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert centre().x() > before.x() + 10
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert centre().y() > before.y() + 10

    class Recorder(ViewerTool):
        """Takes every press, as a drawing tool would."""

        def __init__(self):
            super().__init__()
            self.pressed: list[QPointF] = []

        def mouse_press(self, event):
            self.pressed.append(event.image_pos)
            return True

    tool = Recorder()
    window.viewer.set_tool(tool)
    target = QPointF(1010, 990)
    position = view.mapFromScene(target)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=position)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert tool.viewer is window.viewer
    assert tool.pressed[0].x() == pytest.approx(target.x(), abs=1)
    assert tool.pressed[0].y() == pytest.approx(target.y(), abs=1)

    still = centre()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=position)
    qtbot.mouseMove(view.viewport(), pos=position + type(position)(60, 0))
    qtbot.mouseMove(view.viewport(), pos=position + type(position)(120, 0))
    qtbot.mouseRelease(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=position + type(position)(120, 0),
    )
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert len(tool.pressed) == 1  # the space-drag was not the tool's
    assert centre().x() < still.x() - 50  # dragged right: the image moved right


def test_a_mask_coarser_than_its_slide_is_drawn_from_its_own_sharpest_level(
    tmp_path,
):
    """The pipeline keeps a slide's U-Net mask at the U-Net's scale (here 1/8):
    stretched over the slide, its level 0 serves the slide's 1/8 zoom."""
    import numpy as np

    from engine.images import TileCache, open_image
    from engine.images.pyramid_writer import write_pyramidal_ome_tiff

    path = tmp_path / "smear.mask.ome.tif"
    tile = np.zeros((256, 256, 3), np.uint8)
    write_pyramidal_ome_tiff(
        path, (1024, 512), lambda x, y: tile, tile_size=256, compression="zlib"
    )
    with open_image(path) as source:
        assert source.level_count >= 3
        tiles = tile_sources.SourceTiles(
            source, TileCache(1 << 20), "mask", shown_size=(8192.0, 4096.0)
        )
        assert tiles.size() == (8192.0, 4096.0)
        assert tiles.level_for_zoom(1.0) == 0
        assert tiles.level_for_zoom(1 / 8) == 0
        assert tiles.level_for_zoom(1 / 16) == 1
        assert tiles.level_for_zoom(1 / 32) == 2
        # A tile of level 0 covers 8 times its pixels of the slide.
        assert tiles.tile_rect(0, 1, 0).getRect() == (2048.0, 0.0, 2048.0, 2048.0)
