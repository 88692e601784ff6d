"""Checkpoints: round trips, refusing tampered files, surviving a failed write."""

from __future__ import annotations

import errno
import json
from importlib import metadata

import pytest
import torch
from safetensors.torch import load_file, save_file

from engine.models import (
    CheckpointError,
    CheckpointMismatchError,
    CheckpointWriteError,
    ModelCard,
    TrainingState,
    build_model,
    import_state_dict,
    load_checkpoint,
    load_training_state,
    read_card,
    save_checkpoint,
)
from engine.models import checkpoint as checkpoint_module

CLASSES = [
    "superficial-intermediate",
    "parabasal",
    "metaplastic",
    "koilocytotic",
    "dyskeratotic",
]


def tiny_classifier(seed: int = 0):
    torch.manual_seed(seed)
    model = build_model("classifier", "tiny-cnn", 5)
    card = ModelCard("classifier", "tiny-cnn", 5, CLASSES, 64, epoch=3)
    return model.eval(), card


def outputs(model, seed: int = 1) -> torch.Tensor:
    torch.manual_seed(seed)
    with torch.no_grad():
        return model(torch.rand(4, 3, 64, 64))


def test_a_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    model, card = tiny_classifier()
    save_checkpoint(tmp_path / "model", model, card)

    loaded, loaded_card = load_checkpoint(tmp_path / "model")
    assert torch.equal(outputs(model), outputs(loaded))
    assert loaded_card.classes == CLASSES and loaded_card.epoch == 3
    assert loaded_card.software["torch"] == metadata.version("torch")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "model.json",
        "model.safetensors",
    ]


def test_a_unet_round_trip_gives_identical_masks(tmp_path):
    torch.manual_seed(0)
    model = build_model("unet", "unet-resnet18", 2).eval()
    card = ModelCard("unet", "unet-resnet18", 2, ["cell", "nucleus"], 128)
    save_checkpoint(tmp_path / "unet", model, card)
    loaded, _ = load_checkpoint(tmp_path / "unet")
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(image), loaded(image))


def test_a_card_that_names_another_shape_is_refused_naming_the_tensor(tmp_path):
    model, card = tiny_classifier()
    folder = save_checkpoint(tmp_path / "model", model, card)
    data = json.loads((folder / "model.json").read_text())
    data["num_classes"] = 3
    data["classes"] = CLASSES[:3]
    (folder / "model.json").write_text(json.dumps(data))

    with pytest.raises(CheckpointMismatchError) as error:
        load_checkpoint(folder)
    assert error.value.tensor == "head.weight"
    assert "head.weight" in error.value.user_message()
    assert "[5, 64]" in error.value.user_message()


def test_a_renamed_tensor_is_refused_naming_it(tmp_path):
    model, card = tiny_classifier()
    folder = save_checkpoint(tmp_path / "model", model, card)
    tensors = load_file(folder / "model.safetensors")
    tensors["head.renamed"] = tensors.pop("head.bias")
    save_file(tensors, folder / "model.safetensors")

    with pytest.raises(CheckpointMismatchError) as error:
        load_checkpoint(folder)
    assert error.value.tensor == "head.bias"
    assert "head.renamed" in error.value.user_message()


def test_a_failing_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    old_model, card = tiny_classifier(seed=0)
    folder = save_checkpoint(tmp_path / "model", old_model, card)
    expected = outputs(old_model)

    real_write = checkpoint_module._write_file

    def disk_full_on_weights(path, data):
        if path.name == "model.safetensors":
            real_write(path, data[: len(data) // 2])  # a half-written file
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(checkpoint_module, "_write_file", disk_full_on_weights)
    new_model, new_card = tiny_classifier(seed=5)
    new_card.epoch = 4
    with pytest.raises(CheckpointWriteError) as error:
        save_checkpoint(folder, new_model, new_card)
    assert "disk is full" in error.value.user_message()
    assert "unchanged" in error.value.user_message()

    monkeypatch.undo()
    survivor, survivor_card = load_checkpoint(folder)
    assert survivor_card.epoch == 3
    assert torch.equal(outputs(survivor), expected)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no leftovers


def test_an_interrupted_replacement_is_recovered(tmp_path):
    model, card = tiny_classifier()
    folder = save_checkpoint(tmp_path / "model", model, card)
    # As if the process died between moving the old folder aside and renaming
    # the new one into place.
    folder.rename(tmp_path / ".model.old-123-abc")
    loaded, _ = load_checkpoint(tmp_path / "model")
    assert torch.equal(outputs(loaded), outputs(model))


def test_optimizer_state_round_trips_without_pickle(tmp_path):
    model, card = tiny_classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    model(torch.rand(2, 3, 64, 64)).sum().backward()
    optimizer.step()
    state = TrainingState(optimizer.state_dict(), {"epoch": 3, "best_metric": 0.5})
    folder = save_checkpoint(tmp_path / "run" / "last", model, card, state)
    assert (folder / "optimizer.safetensors").is_file()

    restored = load_training_state(tmp_path / "run")
    assert restored.progress["epoch"] == 3
    fresh = torch.optim.Adam(model.parameters(), lr=1e-3)
    fresh.load_state_dict(restored.optimizer)
    for key, entries in optimizer.state_dict()["state"].items():
        for name, value in entries.items():
            assert torch.equal(fresh.state_dict()["state"][key][name], value)


def test_plain_state_dicts_are_imported_and_pickled_objects_refused(tmp_path):
    model, _ = tiny_classifier()
    wrapped = {"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}
    torch.save(wrapped, tmp_path / "weights.pt")
    tensors = import_state_dict(tmp_path / "weights.pt")
    assert set(tensors) == set(model.state_dict())

    torch.save({"weight": torch.zeros(1), "hook": print}, tmp_path / "unsafe.pt")
    with pytest.raises(CheckpointError) as error:
        import_state_dict(tmp_path / "unsafe.pt")
    assert "unsafe.pt" in error.value.user_message()


def test_a_folder_without_a_card_is_refused_with_what_to_give(tmp_path):
    with pytest.raises(CheckpointError) as error:
        read_card(tmp_path)
    assert "model.json" in error.value.user_message()
