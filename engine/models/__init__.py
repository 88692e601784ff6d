"""The three models of Cervix Studio and their checkpoint format.

`build_model(task, arch, num_classes)` makes a classifier, a U-Net or a Mask
R-CNN; `save_checkpoint` and `load_checkpoint` write and read a checkpoint
folder (`model.safetensors` + `model.json`) without ever unpickling.
"""

from engine.models.checkpoint import (
    ModelCard,
    TrainingState,
    build_from_card,
    load_checkpoint,
    load_training_state,
    read_card,
    resolve_checkpoint,
    save_checkpoint,
    update_card,
)
from engine.models.errors import (
    CheckpointError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CheckpointWriteError,
)
from engine.models.maskrcnn import Instances, postprocess
from engine.models.pretrained import (
    PretrainedMismatchError,
    PretrainedWeights,
    apply_pretrained,
    find_pretrained,
)
from engine.models.registry import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TASKS,
    ArchSpec,
    UnknownArchitectureError,
    arch_spec,
    archs,
    build_model,
    default_arch,
    output_count,
    small_arch,
)
from engine.models.tensors import import_state_dict
from engine.models.unet import CHANNELS

__all__ = [
    "CHANNELS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TASKS",
    "ArchSpec",
    "CheckpointError",
    "CheckpointMismatchError",
    "CheckpointNotFoundError",
    "CheckpointWriteError",
    "Instances",
    "ModelCard",
    "PretrainedMismatchError",
    "PretrainedWeights",
    "TrainingState",
    "UnknownArchitectureError",
    "apply_pretrained",
    "arch_spec",
    "archs",
    "build_from_card",
    "build_model",
    "default_arch",
    "find_pretrained",
    "import_state_dict",
    "load_checkpoint",
    "load_training_state",
    "output_count",
    "postprocess",
    "read_card",
    "resolve_checkpoint",
    "save_checkpoint",
    "small_arch",
    "update_card",
]
