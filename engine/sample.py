"""Where the built-in synthetic sample dataset lives, and making it on first start.

A checkout keeps the sample in `<repository>/sample/sipakmed-synthetic` (made by
`make sample`); an installed copy draws it once in the user's data folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from engine.annotations.project import PROJECT_DIR
from engine.errors import CervixError

log = logging.getLogger(__name__)

SAMPLE_NAME = "sipakmed-synthetic"
SAMPLE_IMAGES_PER_CLASS = 4
SAMPLE_SEED = 7
APP_FOLDER = "cervix-studio"


def repository_root() -> Path | None:
    """The checkout this engine runs from, or None for an installed copy."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def user_data_dir() -> Path:
    """The folder for the user's own Cervix Studio data, per platform.

    `CERVIX_DATA_DIR` overrides it, so tests and portable installs can keep
    everything in one place.
    """
    override = os.environ.get("CERVIX_DATA_DIR")
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "Cervix Studio"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Cervix Studio"
    base = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    return Path(base) / APP_FOLDER


def is_dataset_ready(path: Path) -> bool:
    """Whether a finished sample lies at `path` (its project file is written last)."""
    return (path / PROJECT_DIR / "project.json").is_file()


def checkout_sample_path() -> Path | None:
    """The sample inside the checkout, where `make sample` puts it."""
    root = repository_root()
    return None if root is None else root / "sample" / SAMPLE_NAME


def user_sample_path() -> Path:
    """The sample in the user's data folder, drawn there on first start."""
    return user_data_dir() / "sample" / SAMPLE_NAME


def default_sample_path() -> Path:
    """The sample to open when no dataset is named: the checkout's if it exists,
    else the one in the user's data folder (which may not exist yet)."""
    checkout = checkout_sample_path()
    if checkout is not None and is_dataset_ready(checkout):
        return checkout
    return user_sample_path()


def ensure_sample(
    images_per_class: int = SAMPLE_IMAGES_PER_CLASS, seed: int = SAMPLE_SEED
) -> Path:
    """The sample's folder, drawing the sample in the user's data folder if needed."""
    path = default_sample_path()
    if is_dataset_ready(path):
        return path
    if path.exists():
        raise CervixError(
            "is in the way of the synthetic sample: it is not a finished sample",
            path,
            "move or delete that folder, then start Cervix Studio again",
        )

    try:
        from engine.synthetic import make_dataset
    except ImportError as error:
        raise CervixError(
            f"the synthetic sample cannot be drawn ({error})",
            path,
            "open a dataset folder instead, or reinstall Cervix Studio",
        ) from error

    # Drawn beside its final place and renamed when complete, so a crash or a
    # second window starting at the same time never sees half a sample.
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    log.info("Drawing the synthetic sample in %r", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(partial, ignore_errors=True)
        make_dataset(partial, images_per_class=images_per_class, seed=seed)
        os.replace(partial, path)
    except OSError as error:
        if not is_dataset_ready(path):  # else another window drew it first
            raise CervixError(
                f"the synthetic sample cannot be written ({error.strerror or error})",
                path,
                "check that the folder is writable and the disk is not full, or "
                "set CERVIX_DATA_DIR to another folder",
            ) from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return path
