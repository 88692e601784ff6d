"""The command line: `cervix train` alone and under torchrun with two gloo ranks,
and `cervix evaluate` printing a table or JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors import safe_open

from engine.cli import main
from engine.models import read_card

TINY = [
    "--arch",
    "tiny-cnn",
    "--image-size",
    "32",
    "--epochs",
    "2",
    "--batch-size",
    "8",
    "--lr",
    "1e-3",
    "--pretrained",
    "none",
    "--device",
    "cpu",
]


def tensor_shapes(folder) -> dict[str, tuple[int, ...]]:
    with safe_open(folder / "model.safetensors", framework="pt") as weights:
        return {
            name: tuple(weights.get_slice(name).get_shape()) for name in weights.keys()
        }


def test_train_and_evaluate_from_the_command_line(synthetic_root, tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "classifier",
                "--data",
                str(synthetic_root),
                "--out",
                str(out),
                *TINY,
            ]
        )
        == 0
    )
    printed = capsys.readouterr()
    assert "from random weights" in printed.out
    assert "epoch   1/2" in printed.out and "epoch   2/2" in printed.out
    assert "test split: accuracy" in printed.out

    assert main(["evaluate", str(out), "--data", str(synthetic_root)]) == 0
    table = capsys.readouterr().out
    assert "confusion matrix" in table and "SYNTHETIC" in table

    assert main(["evaluate", str(out), "--data", str(synthetic_root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    card = read_card(out)
    assert report["metrics"]["accuracy"] == pytest.approx(
        card.metrics["test"]["accuracy"]
    )
    assert report["split"] == "test" and report["task"] == "classifier"

    # A second run into the same folder must say so rather than replace it.
    again = ["train", "classifier", "--data", str(synthetic_root), "--out", str(out)]
    assert main([*again, *TINY]) == 1
    assert "--resume" in capsys.readouterr().err
    assert read_card(out).epoch == card.epoch

    # Resuming takes the run's own settings (architecture, size) from its card.
    resume = ["--resume", str(out), "--epochs", "3", "--device", "cpu"]
    assert main(["train", "classifier", "--data", str(synthetic_root), *resume]) == 0
    assert "epochs 3-3" in capsys.readouterr().out
    last = read_card(out / "last")
    assert last.epoch == 3 and last.arch == "tiny-cnn" and last.input_size == 32


def test_a_missing_dataset_is_one_clear_line(tmp_path, capsys):
    code = main(
        [
            "train",
            "unet",
            "--data",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "run"),
        ]
    )
    assert code == 1
    assert "nowhere: is not a folder" in capsys.readouterr().err


@pytest.mark.slow
def test_two_gloo_ranks_give_a_checkpoint_like_one_process(synthetic_root, tmp_path):
    single, double = tmp_path / "single", tmp_path / "double"
    assert (
        main(
            [
                "train",
                "classifier",
                "--data",
                str(synthetic_root),
                "--out",
                str(single),
                *TINY,
            ]
        )
        == 0
    )

    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "engine.cli",
            "train",
            "classifier",
            "--data",
            str(synthetic_root),
            "--out",
            str(double),
            *TINY,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=environment,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    # Rank 0 alone prints and writes.
    assert finished.stdout.count("epoch   2/2") == 1

    card = read_card(double)
    assert card.training["world_size"] == 2 and card.epoch == 2
    assert tensor_shapes(double / "best") == tensor_shapes(single / "best")
    assert read_card(single).classes == card.classes
    assert not list(double.glob(".*"))  # no half-written checkpoint left behind


def test_the_device_is_cuda_then_mps_then_cpu_unless_named(monkeypatch):
    from engine.training.distributed import choose_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device("auto", local_rank=1) == torch.device("cuda", 1)
    assert choose_device("cuda", local_rank=1) == torch.device("cuda", 1)
    assert choose_device("cpu") == torch.device("cpu")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert choose_device("auto") == torch.device("mps")

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert choose_device("auto") == torch.device("cpu")
