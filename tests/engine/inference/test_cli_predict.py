"""`cervix predict`: a dataset's results in its own store, a slide's in --out,
a summary a person can read, exports, and one clear line for a bad file."""

from __future__ import annotations

import json
import shutil

import pytest

from engine.cli import main
from engine.images import CorruptImageError, EmptyImageFileError, open_image
from engine.images.slide_cells import read_cells_geojson
from engine.predictions import PredictionStore

from .conftest import disc_image, write_png


@pytest.fixture
def dataset_copy(synthetic_root, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(synthetic_root, target, ignore=shutil.ignore_patterns("cache"))
    return target


def test_a_classifier_on_a_dataset_classifies_its_cells_into_its_store(
    dataset_copy, classifier_checkpoint, capsys
):
    code = main(
        [
            "predict",
            "--model",
            str(classifier_checkpoint),
            "--input",
            str(dataset_copy),
            "--run",
            "weekly",
            "--top",
            "3",
        ]
    )
    out, err = capsys.readouterr()

    assert code == 0
    store = PredictionStore.for_dataset(dataset_copy)
    assert store.runs() == ["weekly"]
    keys = store.images_with_cells("weekly")
    assert len(keys) == 20  # every cluster image; isolated crops repeat their cells
    first = store.load_cells("weekly", keys[0])
    assert first.cells and all(c.source == "annotation" for c in first.cells)
    assert "image 20/20" in err
    assert "predicted class" in out and "Most suspicious cells" in out
    suspicious_lines = out.split("Most suspicious cells")[1].strip().splitlines()[2:]
    assert len(suspicious_lines) == 3


def test_a_slide_goes_to_out_with_exports_and_a_json_summary(
    synthetic_slide, classifier_checkpoint, tmp_path, capsys
):
    # The classifier alone classifies the true cells stored beside the slide.
    out_dir = tmp_path / "predictions"
    code = main(
        [
            "predict",
            "--model",
            str(classifier_checkpoint),
            "--input",
            str(synthetic_slide.path),
            "--out",
            str(out_dir),
            "--run",
            "slide-run",
            "--export",
            "geojson",
            "--export",
            "coco",
            "--json",
        ]
    )
    out, _ = capsys.readouterr()
    summary = json.loads(out)

    assert code == 0
    true_cells = read_cells_geojson(synthetic_slide.cells_path)
    assert summary["cells"] == len(true_cells)
    assert sum(summary["class_counts"].values()) == len(true_cells)
    assert (out_dir / "slide-run" / "smear.ome.tif.cells.json").is_file()
    geojson = out_dir / "slide-run" / "export" / "geojson" / "smear.ome.tif.geojson"
    exported = read_cells_geojson(geojson)
    assert len(exported) == len(true_cells)
    assert {c.class_name for c in exported} == set(summary["class_counts"])
    coco = json.loads(
        (out_dir / "slide-run" / "export" / "predictions.coco.json").read_text()
    )
    assert len(coco["annotations"]) == len(true_cells)
    assert all(0 <= a["score"] <= 1 for a in coco["annotations"])


@pytest.mark.parametrize(
    "content, error",
    [
        (b"II*\x00" + b"\x13" * 200, CorruptImageError),
        (b"", EmptyImageFileError),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, CorruptImageError),
    ],
)
def test_a_damaged_image_is_refused_by_name(
    tmp_path, classifier_checkpoint, capsys, content, error
):
    bad = tmp_path / ("broken.png" if content.startswith(b"\x89") else "broken.tif")
    bad.write_bytes(content)
    with pytest.raises(error) as expected:
        open_image(bad)
    code = main(
        [
            "predict",
            "--model",
            str(classifier_checkpoint),
            "--input",
            str(bad),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    _, err = capsys.readouterr()
    assert code == 1
    assert err.strip() == f"cervix predict: {expected.value.user_message()}"
    assert str(bad) in err
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_no_dataset_and_a_missing_model_are_explained(
    tmp_path, classifier_checkpoint, capsys
):
    write_png(tmp_path / "loose.png", disc_image((64, 64), [(30, 30, 10)]))
    assert (
        main(
            ["predict", "--model", str(classifier_checkpoint), "--input", str(tmp_path)]
        )
        == 1
    )
    assert "holds no class folders" in capsys.readouterr().err
    loose = str(tmp_path / "loose.png")
    assert (
        main(["predict", "--model", str(classifier_checkpoint), "--input", loose]) == 1
    )
    assert "add a U-Net or Mask R-CNN" in capsys.readouterr().err
    missing = tmp_path / "no-model"
    assert (
        main(
            ["predict", "--model", str(missing), "--input", str(tmp_path / "loose.png")]
        )
        == 1
    )
    assert "model.json" in capsys.readouterr().err
