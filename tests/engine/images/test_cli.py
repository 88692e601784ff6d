"""`cervix info` and `cervix synth-slide` as a user runs them."""

from __future__ import annotations

import json

import pytest

from engine.cli import main


def test_info_describes_a_slide(ome_tiff, capsys):
    assert main(["info", str(ome_tiff)]) == 0
    text = capsys.readouterr().out
    assert "OME-TIFF" in text
    assert "700 x 500" in text
    assert "0.5 um" in text
    assert "ADOBE_DEFLATE" in text
    assert "2: 175 x 125" in text


def test_info_json(ome_tiff, capsys):
    assert main(["info", "--json", str(ome_tiff)]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["format"] == "OME-TIFF"
    assert (facts["width"], facts["height"]) == (700, 500)
    assert [level["downsample"] for level in facts["levels"]] == [1.0, 2.0, 4.0]
    assert facts["tile_size"] == 128
    assert facts["microns_per_pixel"] == pytest.approx(0.5)


def test_info_on_a_broken_file_is_one_clear_line(tmp_path, capsys):
    path = tmp_path / "broken.svs"
    path.write_bytes(b"\x00" * 100)
    assert main(["info", str(path)]) == 1
    error = capsys.readouterr().err
    assert str(path) in error and error.count("\n") == 1


def test_synth_slide_writes_slide_and_cells(tmp_path, capsys):
    out = tmp_path / "tiny.ome.tif"
    code = main(
        [
            "synth-slide",
            str(out),
            "--size",
            "1024",
            "768",
            "--seed",
            "2",
            "--tile",
            "256",
        ]
    )
    assert code == 0
    assert out.is_file() and (tmp_path / "tiny.cells.geojson").is_file()
    assert "SYNTHETIC" in capsys.readouterr().out

    assert main(["info", "--json", str(out)]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["tile_size"] == 256 and len(facts["levels"]) == 3

    # A second run does not replace the slide unless asked to.
    assert main(["synth-slide", str(out), "--size", "1024", "768"]) == 1
    assert "--overwrite" in capsys.readouterr().err


def test_synth_slide_refuses_a_tiny_size(tmp_path):
    with pytest.raises(SystemExit) as exited:
        main(["synth-slide", str(tmp_path / "x.ome.tif"), "--size", "10", "10"])
    assert exited.value.code == 2
