"""The `cervix` command as a shell user meets it: its help reads as English and a
reader that stops early (`| head`) ends it quietly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from engine.cli import EXIT_BROKEN_PIPE, main


@pytest.mark.parametrize(
    ("format_name", "source_help"),
    [("herlev", "the Herlev Pap smear folder"), ("isbi2014", "the ISBI 2014 folder")],
)
def test_import_help_names_the_source_without_a_doubled_article(
    format_name, source_help, capsys
):
    with pytest.raises(SystemExit):
        main(["import", format_name, "--help"])

    shown = " ".join(capsys.readouterr().out.split())
    assert source_help in shown
    assert "the a " not in shown and "the an " not in shown


def test_import_listing_keeps_the_article_where_the_sentence_needs_it(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])

    shown = " ".join(capsys.readouterr().out.split())
    assert "convert a Herlev Pap smear copy" in shown
    assert "convert an ISBI 2014 copy" in shown


def test_a_reader_that_closes_early_gets_no_traceback(tmp_path):
    picture = tmp_path / "cells.png"
    Image.fromarray(np.full((32, 48, 3), 200, np.uint8)).save(picture)

    # The read end is closed before the command writes: every write fails with
    # EPIPE, as it does once `head` has read its lines and quit.
    command = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "info", str(picture)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    command.stdout.close()
    errors = command.stderr.read().decode()
    status = command.wait(timeout=60)

    assert "Traceback" not in errors and "BrokenPipeError" not in errors
    assert status == EXIT_BROKEN_PIPE


def test_the_help_listing_names_every_command_without_importing_torch():
    # A fresh interpreter: the test session has long imported torch.
    script = (
        "import sys, contextlib, io\n"
        "from engine.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(out.getvalue())\n"
        "print('torch imported:', 'torch' in sys.modules)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout

    assert "torch imported: False" in shown
    listing = " ".join(shown.split())
    for command, summary in [
        ("train", "train a classifier, U-Net or Mask R-CNN on a dataset"),
        ("synth-slide", "write a synthetic pyramidal OME-TIFF slide"),
        ("import", "convert Herlev or ISBI 2014 into a dataset"),
    ]:
        assert f"{command} {summary}" in listing


def test_a_named_command_still_parses_its_own_options(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])

    assert "--epochs" in capsys.readouterr().out
