"""Unsaved edits kept in `.cervix/journal/` so that a crash loses nothing: one file
per image, written atomically, restored onto the image when it is opened again.

A journal holds the state of the image's cells, not the edits that led there:
every cell changed or added since the last save, whole, and the indices of the
cells deleted. That restores exactly however the cells were changed, does not
grow with a long undo history, and cannot fail halfway on an edit that no longer
applies; a save afterwards compares with the disk as any save does. It also
holds the crc32 of each `.dat` file its state is based on, so a journal whose
files changed on disk since is reported instead of being applied over them.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from engine.annotations.cell_json import cell_from_json, cell_to_json, copy_cell
from engine.annotations.cells import Cell, ImageRecord
from engine.annotations.dataset import Dataset
from engine.annotations.errors import AnnotationError, Problem
from engine.annotations.project import (
    ProjectFolder,
    atomic_write_json,
    current_user,
    now_iso,
)

log = logging.getLogger(__name__)

JOURNAL_FORMAT_VERSION = 1


class JournalError(AnnotationError):
    """A journal of unsaved edits that cannot be read or restored."""


class StaleJournalError(JournalError):
    """A journal whose image files changed on disk after the edits were made."""


@dataclass(frozen=True, eq=False)
class JournalEntry:
    """The unsaved edits of one image, as found in the journal."""

    path: Path
    image_key: str
    time: str  # ISO 8601, UTC
    author: str
    based_on: dict[str, int]  # crc32 of each .dat file, by path in the dataset
    cells: tuple[Cell, ...]  # changed and added cells, whole, in image order
    changed: tuple[int, ...]
    added: tuple[int, ...]
    deleted: tuple[int, ...]

    @property
    def summary(self) -> str:
        """The edits in a few words, e.g. "2 cells changed, 1 added"."""
        parts = []
        for count, what in (
            (len(self.changed), "changed"),
            (len(self.added), "added"),
            (len(self.deleted), "deleted"),
        ):
            if count:
                noun = "cell" if count == 1 else "cells"
                parts.append(
                    f"{count} {noun} {what}" if not parts else f"{count} {what}"
                )
        return ", ".join(parts)


class Journal:
    """The journal of unsaved edits in a dataset's project folder."""

    def __init__(self, project_folder: ProjectFolder):
        self.project = project_folder
        self.problems: list[Problem] = []  # journal files `pending` could not read

    @property
    def folder(self) -> Path:
        return self.project.journal_dir

    def path(self, image_key: str) -> Path:
        return self.folder / f"{image_key}.json"

    def record(
        self, dataset: Dataset, image: ImageRecord, author: str | None = None
    ) -> JournalEntry | None:
        """Write the image's unsaved edits to the journal, replacing what it held
        for that image; with nothing unsaved, remove its journal. Raise SaveError
        when the journal cannot be written (the edits are still in memory)."""
        changed, added, deleted = dataset.unsaved_cells(image)
        if not (changed or added or deleted):
            self.discard(image.key)
            return None
        kept = set(changed) | set(added)
        data = {
            "format_version": JOURNAL_FORMAT_VERSION,
            "image": image.key,
            "time": now_iso(),
            "author": author or current_user(),
            "based_on": dataset.disk_fingerprint(image),
            "changed": changed,
            "added": added,
            "deleted": deleted,
            "cells": [cell_to_json(cell) for cell in image.cells if cell.index in kept],
        }
        path = self.path(image.key)
        atomic_write_json(path, data)
        log.debug("Journaled %s: %d cells", image.key, len(data["cells"]))
        return _entry_from_json(data, path)

    def pending(self) -> list[JournalEntry]:
        """Every journal that can be restored, oldest first. Journal files that
        cannot be read are left in place and listed in `problems`."""
        self.problems = []
        entries = []
        for path in sorted(self.folder.rglob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                entries.append(_entry_from_json(data, path))
            except (OSError, ValueError) as error:
                problem = JournalError(
                    f"unsaved edits cannot be read ({error}); they are not restored",
                    path,
                )
                log.warning("%s", problem.user_message())
                self.problems.append(Problem.from_error(problem))
            except JournalError as error:
                log.warning("%s", error.user_message())
                self.problems.append(Problem.from_error(error))
        return sorted(entries, key=lambda entry: (entry.time, entry.image_key))

    def conflict(self, dataset: Dataset, entry: JournalEntry) -> str | None:
        """Why the entry cannot be restored onto the dataset as it is on disk now,
        or None when it can."""
        when = f"journaled at {entry.time} by {entry.author}"
        try:
            image = dataset.image(entry.image_key)
        except KeyError:
            return (
                f"the unsaved edits of {entry.image_key} ({when}) are for an image "
                "that is no longer in the dataset"
            )
        now = dataset.disk_fingerprint(image)
        differ = sorted(
            name
            for name in set(now) | set(entry.based_on)
            if now.get(name) != entry.based_on.get(name)
        )
        if not differ:
            return None
        names = ", ".join(differ[:3])
        if len(differ) > 3:
            names += f" and {len(differ) - 3} more"
        return (
            f"the unsaved edits of {entry.image_key} ({when}) were not restored: "
            f"{names} changed on disk after they were made"
        )

    def restore(self, dataset: Dataset, entry: JournalEntry) -> ImageRecord:
        """Put the journaled cells onto the freshly opened image, unsaved, so a save
        writes them. Raise StaleJournalError when the image's files changed on disk
        since, and JournalError when the image already has other unsaved edits."""
        reason = self.conflict(dataset, entry)
        if reason is not None:
            raise StaleJournalError(
                f"{reason}; open the image to see it as it is now, then discard "
                "the old edits or redo them",
                entry.path,
            )
        image = dataset.image(entry.image_key)
        if dataset.is_modified(image):
            raise JournalError(
                f"{image.key} already has unsaved edits; save or undo them before "
                "restoring the journaled ones",
                entry.path,
            )

        deleted = set(entry.deleted)
        image.cells = [cell for cell in image.cells if cell.index not in deleted]
        position = {cell.index: place for place, cell in enumerate(image.cells)}
        for cell in map(copy_cell, entry.cells):
            if cell.index in position:
                image.cells[position[cell.index]] = cell
            else:
                image.cells.append(cell)
        log.info("Restored unsaved edits of %s: %s", image.key, entry.summary)
        return image

    def discard(self, image_key: str) -> None:
        """Remove the image's journal: after a save, or when the user declines it."""
        path = self.path(image_key)
        # Nothing journaled for the image is the same outcome as removing it.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        folder = path.parent
        while folder != self.folder and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _entry_from_json(data: dict, path: Path) -> JournalEntry:
    try:
        version = int(data.get("format_version", JOURNAL_FORMAT_VERSION))
        if version > JOURNAL_FORMAT_VERSION:
            raise JournalError(
                f"was written by a newer Cervix Studio (format {version}); "
                "update Cervix Studio to restore these edits",
                path,
            )
        return JournalEntry(
            path=path,
            image_key=str(data["image"]),
            time=str(data["time"]),
            author=str(data["author"]),
            based_on={str(name): int(crc) for name, crc in data["based_on"].items()},
            cells=tuple(cell_from_json(cell) for cell in data["cells"]),
            changed=tuple(int(index) for index in data["changed"]),
            added=tuple(int(index) for index in data["added"]),
            deleted=tuple(int(index) for index in data["deleted"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise JournalError(
            f"unsaved edits cannot be read ({error!r}); they are not restored", path
        ) from None
