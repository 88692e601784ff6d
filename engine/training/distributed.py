"""Running the same loop under `torchrun` with DistributedDataParallel.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them a run is a single
process and every helper here does nothing. Rank 0 alone writes checkpoints
and prints; the ranks agree on stopping through one small all-reduce per step.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def choose_device(requested: str = "auto", local_rank: int = 0) -> torch.device:
    """CUDA, then Apple's MPS, then the CPU; or the device asked for."""
    if requested not in ("auto", ""):
        device = torch.device(requested)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", local_rank)
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def setup(requested_device: str = "auto") -> tuple[DistContext, torch.device]:
    """Join the process group when started by torchrun; pick this rank's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext(), choose_device(requested_device)
    context = DistContext(
        rank=int(os.environ["RANK"]),
        world_size=world_size,
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )
    device = choose_device(requested_device, context.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        log.info("Rank %d of %d on %s (%s)", context.rank, world_size, device, backend)
    return context, device


def teardown(context: DistContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(context: DistContext) -> None:
    if context.enabled:
        dist.barrier()


def any_rank(
    context: DistContext, flags: list[bool], device: torch.device
) -> list[bool]:
    """Each flag, true if it is true on any rank (cancel, a NaN loss)."""
    if not context.enabled:
        return flags
    # gloo reduces CPU tensors, NCCL CUDA tensors.
    where = device if device.type == "cuda" else torch.device("cpu")
    values = torch.tensor([float(flag) for flag in flags], device=where)
    dist.all_reduce(values, op=dist.ReduceOp.MAX)
    return [bool(value) for value in values.tolist()]


def average(context: DistContext, value: float, device: torch.device) -> float:
    """The mean of a number over the ranks."""
    if not context.enabled:
        return value
    where = device if device.type == "cuda" else torch.device("cpu")
    tensor = torch.tensor([value], dtype=torch.float64, device=where)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return float(tensor.item()) / context.world_size


def wrap(model: torch.nn.Module, context: DistContext, device: torch.device, task: str):
    """The model inside DistributedDataParallel when running on several ranks."""
    if not context.enabled:
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    # Mask R-CNN skips its mask head for images without cells.
    return torch.nn.parallel.DistributedDataParallel(
        model, device_ids=device_ids, find_unused_parameters=task == "maskrcnn"
    )
