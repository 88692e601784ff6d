"""`cervix synth` from the command line."""

from __future__ import annotations

from engine.annotations import Dataset
from engine.cli import main


def test_synth_writes_a_sample_and_says_it_is_synthetic(tmp_path, capsys):
    out = tmp_path / "sample"

    status = main(
        [
            "synth",
            str(out),
            "--images-per-class",
            "1",
            "--seed",
            "5",
            "--no-cropped",
            "--size",
            "256",
            "192",
        ]
    )

    assert status == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    dataset = Dataset.open(out)
    assert dataset.settings.synthetic
    assert len(dataset.images) == 5
    assert all(image.size == (256, 192) for image in dataset.images)


def test_synth_refuses_a_folder_with_other_files(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep", encoding="utf-8")

    status = main(["synth", str(tmp_path)])

    assert status == 1
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep"


def test_synth_explains_bad_arguments(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "a"), "--seed", "-3"]) == 1
    assert "--seed -3 is negative" in capsys.readouterr().err
    assert main(["synth", str(tmp_path / "b"), "--size", "32", "200"]) == 1
    assert "too small" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
