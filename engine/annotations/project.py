"""The hidden project folder `.cervix/` beside a dataset, and safe file writing.

SIPaKMeD has no place for per-cell classes, review states or model output, so
they live here and the `.dat` files stay pure SIPaKMeD. This module also owns
the two promises made about the user's files: a write is atomic (the old file
or the new one, never a mix) and the old version is kept in `backups/` first.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import shutil
import socket
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from engine.annotations.classes import ClassScheme
from engine.errors import CervixError, DatasetLockedError, SaveError

log = logging.getLogger(__name__)

PROJECT_DIR = ".cervix"
FORMAT_VERSION = 1


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` durable (a no-op where directories can't sync)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old or the new file."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise SaveError(
            f"could not be written: {error.strerror}",
            path,
            "check that the folder is writable and the disk is not full; "
            "your edits are still in memory",
        ) from error
    fsync_dir(path.parent)


def atomic_write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    atomic_write(path, text.encode("utf-8"))


@dataclass
class ProjectSettings:
    """What `project.json` holds: the class scheme, where the data came from."""

    scheme: ClassScheme = field(default_factory=ClassScheme)
    synthetic: bool = False
    source: str = "sipakmed"
    settings: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "scheme": self.scheme.to_json(),
            "synthetic": self.synthetic,
            "source": self.source,
            "settings": self.settings,
        }

    @classmethod
    def from_json(cls, data: dict, path: Path) -> ProjectSettings:
        version = data.get("format_version", FORMAT_VERSION)
        if version > FORMAT_VERSION:
            raise CervixError(
                f"was written by a newer Cervix Studio (format {version})",
                path,
                "update Cervix Studio to open this dataset",
            )
        try:
            scheme = ClassScheme.from_json(data["scheme"])
        except (KeyError, TypeError, ValueError) as error:
            raise CervixError(
                f"has no valid class scheme ({error})",
                path,
                "fix the file or delete it to use the SIPaKMeD classes",
            ) from None
        return cls(
            scheme=scheme,
            synthetic=bool(data.get("synthetic", False)),
            source=str(data.get("source", "sipakmed")),
            settings=dict(data.get("settings", {})),
        )


class ProjectFolder:
    """Paths and settings of `<dataset>/.cervix/`."""

    def __init__(self, dataset_root: Path):
        self.dataset_root = Path(dataset_root)
        self.root = self.dataset_root / PROJECT_DIR

    @property
    def settings_path(self) -> Path:
        return self.root / "project.json"

    @property
    def labels_dir(self) -> Path:
        return self.root / "labels"

    @property
    def predictions_dir(self) -> Path:
        return self.root / "predictions"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def backups_dir(self) -> Path:
        return self.root / "backups"

    @property
    def journal_dir(self) -> Path:
        return self.root / "journal"

    @property
    def lock_path(self) -> Path:
        return self.root / "lock"

    def labels_path(self, image_key: str) -> Path:
        return self.labels_dir / f"{image_key}.json"

    def load_settings(self) -> ProjectSettings | None:
        """The settings, or None when the dataset has no project folder yet."""
        if not self.settings_path.exists():
            return None
        try:
            data = json.loads(self.settings_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CervixError(
                f"cannot be read ({error})",
                self.settings_path,
                "fix the file or delete it to use the SIPaKMeD classes",
            ) from None
        return ProjectSettings.from_json(data, self.settings_path)

    def save_settings(self, settings: ProjectSettings) -> None:
        atomic_write_json(self.settings_path, settings.to_json())

    def new_backup_dir(self) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        return self.backups_dir / stamp

    def lock(self) -> DatasetLock:
        return DatasetLock(self.lock_path)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DatasetLock:
    """One editor at a time: a lock file naming who holds the dataset."""

    def __init__(self, path: Path):
        self.path = path
        self.held = False

    def holder(self) -> dict | None:
        """Who holds the lock now, or None when nobody (or a dead process) does."""
        try:
            info = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"user": "unknown", "host": "unknown", "pid": 0, "since": "?"}
        same_host = info.get("host") == socket.gethostname()
        if same_host and not _process_alive(int(info.get("pid", 0))):
            return None
        return info

    def acquire(self) -> DatasetLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        info = {
            "user": current_user(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": now_iso(),
        }
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.holder()
                if holder is None:
                    log.info("Removing a stale lock %r", str(self.path))
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()
                    continue
                if (
                    holder.get("pid") == os.getpid()
                    and holder.get("host") == socket.gethostname()
                ):
                    self.held = True
                    return self
                raise DatasetLockedError(
                    f"is being edited by {holder.get('user')} on "
                    f"{holder.get('host')} (process {holder.get('pid')}) since "
                    f"{holder.get('since')}",
                    self.path.parent.parent,
                    "open it read-only, or close the other window first",
                ) from None
            except OSError as error:
                raise SaveError(
                    f"cannot create the lock file: {error.strerror}",
                    self.path,
                    "the dataset folder may be read-only; open it read-only",
                ) from error
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                json.dump(info, stream)
            self.held = True
            return self
        raise DatasetLockedError("could not take the lock", self.path)

    def release(self) -> None:
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.held = False

    def __enter__(self) -> DatasetLock:
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def copy_to_backup(path: Path, dataset_root: Path, backup_dir: Path) -> Path:
    """Copy a file into the backup folder, keeping its place below the dataset."""
    target = backup_dir / path.relative_to(dataset_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copy2(path, target)
        with open(target, "rb") as stream:
            os.fsync(stream.fileno())
    except OSError as error:
        raise SaveError(
            f"could not be backed up before overwriting: {error.strerror}",
            path,
            "check free disk space; nothing was changed",
        ) from error
    return target


def move_to_backup(path: Path, dataset_root: Path, backup_dir: Path) -> Path:
    """Move a deleted cell's file into the backup folder."""
    target = copy_to_backup(path, dataset_root, backup_dir)
    try:
        path.unlink()
    except OSError as error:
        raise SaveError(
            f"could not be removed: {error.strerror}",
            path,
            "check that the folder is writable",
        ) from error
    fsync_dir(path.parent)
    return target
