"""Tensors in and out of files without pickle: model weights, optimizer state,
and plain PyTorch state dicts from elsewhere."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from engine.models.errors import CheckpointError, CheckpointNotFoundError


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper, or the model itself."""
    return getattr(model, "module", model)


def weights_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as separate CPU tensors; tied weights become copies, which
    safetensors needs and loading restores."""
    return {
        name: tensor.detach().to("cpu").clone().contiguous()
        for name, tensor in unwrap(model).state_dict().items()
    }


def optimizer_to_files(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer's state dict as safetensors tensors plus JSON for the rest."""
    tensors: dict[str, torch.Tensor] = {}
    plain_state: dict[str, dict] = {}
    for parameter_id, entries in state["state"].items():
        plain = {}
        for name, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"state.{parameter_id}.{name}"] = value.detach().cpu().clone()
            else:
                plain[name] = value
        plain_state[str(parameter_id)] = plain
    return tensors, {"param_groups": state["param_groups"], "state": plain_state}


def optimizer_from_files(tensors: dict[str, torch.Tensor], plain: dict) -> dict:
    """The optimizer state dict that `optimizer_to_files` took apart."""
    state: dict[int, dict] = {
        int(key): dict(value) for key, value in plain["state"].items()
    }
    for key, tensor in tensors.items():
        _, parameter_id, name = key.split(".", 2)
        state.setdefault(int(parameter_id), {})[name] = tensor
    return {"state": state, "param_groups": plain["param_groups"]}


def import_state_dict(path: Path | str) -> dict[str, torch.Tensor]:
    """Tensors of a `.safetensors` file or a plain PyTorch state dict.

    A `.pt`/`.pth` file is read with `torch.load(weights_only=True)`, which
    refuses arbitrary Python objects. A state dict nested under "state_dict"
    or "model" is taken out, and DDP's "module." prefix is removed.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointNotFoundError("does not exist", path, "check the path")
    try:
        if path.suffix == ".safetensors":
            loaded: object = load_file(path, device="cpu")
        else:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        SafetensorError,
        RuntimeError,
        ValueError,
    ) as error:
        raise CheckpointError(
            f"cannot be read as weights ({str(error).splitlines()[0]})",
            path,
            "give a .safetensors file or a plain PyTorch state dict",
        ) from error
    for wrapper in ("state_dict", "model_state_dict", "model"):
        if isinstance(loaded, dict) and isinstance(loaded.get(wrapper), dict):
            loaded = loaded[wrapper]
    if not isinstance(loaded, dict):
        raise CheckpointError("holds no state dict", path)
    tensors = {
        str(name).removeprefix("module."): value
        for name, value in loaded.items()
        if torch.is_tensor(value)
    }
    if not tensors:
        raise CheckpointError("holds no tensors", path)
    return tensors
