"""`cervix-gui --screenshot`: the window rendered offscreen to a PNG, and clear
messages instead of tracebacks when it cannot be."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cervix_gui.app import main, parse_size


def test_screenshot_writes_the_window_at_the_asked_size(qapp, small_dataset, tmp_path):
    output = tmp_path / "window.png"

    status = main(
        ["--screenshot", str(output), str(small_dataset), "--size", "900x600"]
    )

    assert status == 0
    with Image.open(output) as picture:
        assert picture.format == "PNG"
        assert picture.size == (900, 600)
        pixels = np.asarray(picture.convert("RGB"))
    # Not a blank window: the image's pink background and the outlines show.
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50


def test_screenshot_shows_the_asked_image(qapp, small_dataset, tmp_path):
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    assert main(["--screenshot", str(first), str(small_dataset)]) == 0
    key = "im_Koilocytotic/001"
    assert main(["--screenshot", str(second), str(small_dataset), "--image", key]) == 0

    with Image.open(first) as a, Image.open(second) as b:
        assert a.size == b.size == (1440, 900)
        difference = np.abs(
            np.asarray(a.convert("L"), dtype=int)
            - np.asarray(b.convert("L"), dtype=int)
        )
    assert (difference > 30).mean() > 0.01


def test_screenshot_of_a_folder_that_is_not_a_dataset_fails_cleanly(
    qapp, tmp_path, capsys
):
    output = tmp_path / "window.png"

    status = main(["--screenshot", str(output), str(tmp_path)])

    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith("cervix-gui: ")
    assert "holds no class folders" in error
    assert "Traceback" not in error
    assert not output.exists()


def test_screenshot_of_an_unknown_image_names_some_that_exist(
    qapp, small_dataset, tmp_path, capsys
):
    status = main(
        ["--screenshot", str(tmp_path / "x.png"), str(small_dataset), "--image", "nope"]
    )

    assert status == 1
    error = capsys.readouterr().err
    assert "has no image 'nope'" in error
    assert "im_Parabasal/001" in error


def test_screenshot_into_a_missing_folder_fails_cleanly(
    qapp, small_dataset, tmp_path, capsys
):
    output = tmp_path / "no" / "such" / "folder" / "window.png"

    assert main(["--screenshot", str(output), str(small_dataset)]) == 1
    assert "cannot be written" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["800", "axb", "10x10", "-5x600"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="size|small"):
        parse_size(text)


def test_command_renders_offscreen_without_a_display(small_dataset, tmp_path):
    output = tmp_path / "command.png"
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    command = [sys.executable, "-m", "cervix_gui.app", "--screenshot", str(output)]

    done = subprocess.run(
        [*command, str(small_dataset), "--size", "800x500"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    with Image.open(output) as picture:
        assert picture.size == (800, 500)


def test_window_without_a_display_says_so(small_dataset):
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    if not sys.platform.startswith("linux"):
        pytest.skip("only Linux needs DISPLAY to show a window")

    done = subprocess.run(
        [sys.executable, "-m", "cervix_gui.app", str(small_dataset)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert "no display" in done.stderr
    assert "--screenshot" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_window_sized_before_it_is_shown_keeps_that_size(qtbot):
    from cervix_gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(800, 500)  # as --screenshot does, before show()

    assert (window.width(), window.height()) == (800, 500)
    window.show()
    qtbot.waitExposed(window)
    assert (window.width(), window.height()) == (800, 500)
    assert window.minimumSizeHint().height() < 500  # the Models and Jobs docks too
