"""A run stops cleanly and loses nothing: cancel, NaN loss, a full disk, resume."""

from __future__ import annotations

import errno
import json
import pickle

import pytest
import torch

from engine.annotations import Dataset
from engine.models import CheckpointWriteError, load_checkpoint, read_card
from engine.models import checkpoint as checkpoint_module
from engine.training import (
    CancelToken,
    CheckpointSaved,
    EmptyClassError,
    EpochEnded,
    NonFiniteLossError,
    OutOfMemoryError,
    StepEnded,
    TrainingConfig,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    train,
)
from engine.training.tasks.classifier import ClassifierTask


def tiny_config(**changes) -> TrainingConfig:
    settings = dict(
        task="classifier",
        arch="tiny-cnn",
        image_size=32,
        batch_size=8,
        epochs=2,
        lr=1e-3,
        pretrained="none",
        log_every=1,
    )
    settings.update(changes)
    return TrainingConfig(**settings)


def test_cancel_stops_within_one_step_and_keeps_the_best_checkpoint(
    synthetic_root, tmp_path
):
    cancel = CancelToken()
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, StepEnded) and (event.epoch, event.step) == (2, 2):
            cancel.cancel()

    result = train(
        tiny_config(epochs=5), synthetic_root, tmp_path / "run", on_event, cancel
    )

    steps = [(e.epoch, e.step) for e in events if isinstance(e, StepEnded)]
    assert steps[-1] == (2, 2)  # not one step more
    assert result.cancelled and result.epochs_done == 1
    finished = events[-1]
    assert isinstance(finished, TrainingFinished) and finished.cancelled
    model, card = load_checkpoint(tmp_path / "run")
    assert card.epoch == 1 and finished.checkpoint == str(tmp_path / "run" / "best")

    # Events are plain data: the application may send them across processes.
    kinds = {type(event) for event in events}
    assert {TrainingStarted, StepEnded, EpochEnded, CheckpointSaved} <= kinds
    for event in events:
        assert pickle.loads(pickle.dumps(event)) == event


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(
    synthetic_root, tmp_path, monkeypatch
):
    events = []
    real_loss = ClassifierTask.loss

    def loss_that_explodes_in_epoch_two(self, model, batch):
        loss = real_loss(self, model, batch)
        epoch_one_done = any(isinstance(e, EpochEnded) for e in events)
        return loss * float("nan") if epoch_one_done else loss

    monkeypatch.setattr(ClassifierTask, "loss", loss_that_explodes_in_epoch_two)
    with pytest.raises(NonFiniteLossError) as error:
        train(tiny_config(epochs=3), synthetic_root, tmp_path / "run", events.append)

    message = error.value.user_message()
    assert "NaN" in message and "epoch 2" in message
    assert str(tmp_path / "run" / "best") in message and "--lr" in message
    assert isinstance(events[-1], TrainingFailed)
    assert events[-1].checkpoint == str(tmp_path / "run" / "best")
    model, card = load_checkpoint(tmp_path / "run")
    assert card.epoch == 1
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_gpu_out_of_memory_suggests_a_smaller_batch(
    synthetic_root, tmp_path, monkeypatch
):
    def out_of_memory(self, model, batch):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(ClassifierTask, "loss", out_of_memory)
    events = []
    with pytest.raises(OutOfMemoryError) as error:
        train(
            tiny_config(batch_size=8), synthetic_root, tmp_path / "run", events.append
        )
    assert "ran out of memory at batch size 8" in error.value.user_message()
    assert "--batch-size 4" in error.value.user_message()
    assert isinstance(events[-1], TrainingFailed)


def test_a_full_disk_during_training_keeps_the_previous_checkpoint(
    synthetic_root, tmp_path, monkeypatch
):
    real_write = checkpoint_module._write_file
    saved = {"weights": 0}

    def disk_fills_up(path, data):
        if path.name == "model.safetensors":
            saved["weights"] += 1
            if saved["weights"] > 2:  # epoch 1 wrote best and last
                raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(checkpoint_module, "_write_file", disk_fills_up)
    events = []
    with pytest.raises(CheckpointWriteError):
        train(
            tiny_config(epochs=3, lr=3e-3),
            synthetic_root,
            tmp_path / "run",
            events.append,
        )

    assert isinstance(events[-1], TrainingFailed)
    assert "disk is full" in events[-1].message
    assert read_card(tmp_path / "run" / "best").epoch == 1
    assert read_card(tmp_path / "run" / "last").epoch == 1


def test_resume_continues_from_the_last_epoch_with_the_optimizer_state(
    synthetic_root, tmp_path
):
    first = train(tiny_config(epochs=2), synthetic_root, tmp_path / "run")
    assert first.epochs_done == 2

    events = []
    resumed = train(
        tiny_config(epochs=3, resume=tmp_path / "run"),
        synthetic_root,
        tmp_path / "run",
        events.append,
    )
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert started.first_epoch == 3
    assert [entry["epoch"] for entry in resumed.history] == [1, 2, 3]
    assert resumed.history[:2] == first.history

    progress = json.loads((tmp_path / "run" / "last" / "training.json").read_text())
    steps_per_epoch = started.steps_per_epoch
    adam_steps = [
        group.get("step")
        for group in progress["optimizer"]["state"].values()
        if "step" in group
    ]
    assert progress["epoch"] == 3
    # Adam's step count is a tensor, saved in optimizer.safetensors.
    assert adam_steps == []
    from safetensors.torch import load_file

    tensors = load_file(tmp_path / "run" / "last" / "optimizer.safetensors")
    assert float(tensors["state.0.step"]) == 3 * steps_per_epoch


def test_an_empty_class_is_refused_with_what_to_do(synthetic_copy, tmp_path):
    for path in (synthetic_copy / "im_Koilocytotic").rglob("*.dat"):
        path.unlink()
    with pytest.raises(EmptyClassError) as error:
        train(tiny_config(epochs=1), Dataset.open(synthetic_copy), tmp_path / "run")
    message = error.value.user_message()
    assert "'koilocytotic' has no cells" in message and "--scheme 3" in message

    # Grouped as normal/benign/abnormal, dyskeratotic cells still teach "abnormal".
    result = train(
        tiny_config(epochs=1, scheme="3", max_steps_per_epoch=1),
        Dataset.open(synthetic_copy),
        tmp_path / "run3",
    )
    assert read_card(result.checkpoint).classes == ["normal", "benign", "abnormal"]
    assert read_card(result.checkpoint).pretrained is None  # random start, said so
