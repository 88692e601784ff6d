"""A SIPaKMeD dataset in memory: reading it tolerantly and saving edits safely.

Reading never stops at a bad file: each problem is recorded with its path and
line and the cell is skipped, its files left alone. Saving rewrites only the
files of cells that changed, each atomically after copying the old one to
`.cervix/backups/`, and refuses to overwrite a file that someone else changed
since it was read.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from engine.annotations.cells import Cell, ImageKind, ImageRecord, Origin, ReviewState
from engine.annotations.classes import ClassScheme
from engine.annotations.datfile import DEFAULT_STYLE, format_dat, parse_dat
from engine.annotations.errors import (
    AnnotationError,
    DatFormatError,
    GeometryError,
    ImageFileError,
    Problem,
)
from engine.annotations.project import (
    ProjectFolder,
    ProjectSettings,
    atomic_write,
    atomic_write_json,
    copy_to_backup,
    current_user,
    move_to_backup,
    now_iso,
)
from engine.annotations.sipakmed import (
    FoundImage,
    cluster_dat_name,
    cropped_dat_name,
    scan_layout,
)
from engine.errors import NotADatasetError, SaveError

log = logging.getLogger(__name__)

# A hand-drawn nucleus may cross its cell's outline by a pixel or two.
NUCLEUS_OUTSIDE_TOLERANCE = 0.02


@dataclass(frozen=True)
class _Baseline:
    """A cell as it is on disk, to tell what an edit changed."""

    cytoplasm: np.ndarray
    nucleus: np.ndarray | None
    class_name: str
    review_state: ReviewState
    origin: Origin
    cytoplasm_crc: int | None = None
    nucleus_crc: int | None = None


@dataclass
class SaveReport:
    """What a save wrote, backed up and removed."""

    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    backed_up: list[Path] = field(default_factory=list)
    labels_written: bool = False
    backup_dir: Path | None = None

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed or self.labels_written)


class ConflictError(SaveError):
    """A file changed on disk since it was read; saving would overwrite that change."""


def polygon_problem(vertices: np.ndarray) -> tuple[str, int] | None:
    """Why an outline is not a valid polygon, and the vertex line nearest the fault."""
    polygon = Polygon(vertices)
    if polygon.is_valid:
        return None if polygon.area > 0 else ("the outline encloses no area", 1)
    reason = explain_validity(polygon)
    line = 1
    if "[" in reason and "]" in reason:
        coords = reason[reason.index("[") + 1 : reason.index("]")].split()
        point = np.array([float(coords[0]), float(coords[1])])
        line = int(np.argmin(np.linalg.norm(vertices - point, axis=1))) + 1
    return f"the outline is not a valid polygon ({reason})", line


def check_nucleus_inside(cytoplasm: np.ndarray, nucleus: np.ndarray) -> float:
    """The share of the nucleus's area that lies outside its cell."""
    cell_polygon = Polygon(cytoplasm)
    nucleus_polygon = Polygon(nucleus)
    if cell_polygon.covers(nucleus_polygon):
        return 0.0
    outside = nucleus_polygon.difference(cell_polygon).area
    return outside / max(nucleus_polygon.area, 1e-9)


class Dataset:
    """A dataset folder: its classes, images, cells, problems and project folder."""

    def __init__(self, root: Path, settings: ProjectSettings):
        self.root = Path(root)
        self.project = ProjectFolder(self.root)
        self.settings = settings
        self.images: list[ImageRecord] = []
        self.problems: list[Problem] = []
        self._by_key: dict[str, ImageRecord] = {}
        self._baselines: dict[str, dict[int, _Baseline]] = {}
        self._labels: dict[str, dict] = {}

    # -- reading -----------------------------------------------------------------

    @property
    def scheme(self) -> ClassScheme:
        return self.settings.scheme

    @classmethod
    def open(cls, root: Path | str) -> Dataset:
        """Read a dataset folder; bad files become `problems`, never exceptions."""
        root = Path(root).expanduser()
        if not root.is_dir():
            raise NotADatasetError(
                "is not a folder", root, "choose a SIPaKMeD dataset folder"
            )
        project = ProjectFolder(root)
        settings = project.load_settings() or ProjectSettings()
        found = scan_layout(root, settings.scheme)
        if not found and not any(
            (root / c.folder).is_dir() for c in settings.scheme.classes
        ):
            expected = ", ".join(c.folder for c in settings.scheme.classes)
            raise NotADatasetError(
                "holds no class folders",
                root,
                f"a SIPaKMeD dataset has folders such as {expected}",
            )
        dataset = cls(root, settings)
        for found_image in found:
            dataset._read_image(found_image)
        dataset.images.sort(key=lambda image: image.key)
        log.info(
            "Opened dataset %r: %d images, %d cells, %d problems",
            str(root),
            len(dataset.images),
            dataset.cell_count(),
            len(dataset.problems),
        )
        return dataset

    def _problem(self, error: AnnotationError) -> None:
        self.problems.append(Problem.from_error(error))

    def _read_image(self, found: FoundImage) -> None:
        if found.image_path is None:
            for files in found.cells.values():
                for path in (files.cytoplasm, files.nucleus):
                    if path is not None:
                        self._problem(
                            ImageFileError(
                                f"has no image {found.stem}.bmp beside it; "
                                "its cell is not shown",
                                path,
                            )
                        )
                        break
                break
            return
        size = self._image_size(found.image_path)
        if size is None:
            return
        labels = self._read_labels(found.key)
        record = ImageRecord(
            key=found.key,
            path=found.image_path,
            folder_class=found.folder_class.name,
            kind=found.kind,
            stem=found.stem,
            size=size,
            used_indices=set(found.cells),
        )
        record.index_width = found.index_width  # type: ignore[attr-defined]
        baselines: dict[int, _Baseline] = {}
        for index in sorted(found.cells):
            cell, baseline = self._read_cell(found, index, labels)
            if cell is not None:
                record.cells.append(cell)
                baselines[index] = baseline
        self.images.append(record)
        self._by_key[record.key] = record
        self._baselines[record.key] = baselines
        self._labels[record.key] = labels

    def _image_size(self, path: Path) -> tuple[int, int] | None:
        try:
            with Image.open(path) as image:
                return image.size
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            self._problem(
                ImageFileError(
                    f"cannot be read as an image ({error}); its cells are not shown",
                    path,
                )
            )
            return None

    def _read_labels(self, key: str) -> dict:
        path = self.project.labels_path(key)
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return dict(data.get("cells", {}))
        except (OSError, ValueError, AttributeError) as error:
            self._problem(
                AnnotationError(
                    f"review labels cannot be read ({error}); the folder's classes "
                    "are used instead",
                    path,
                )
            )
            return {}

    def _read_cell(
        self, found: FoundImage, index: int, labels: dict
    ) -> tuple[Cell | None, _Baseline | None]:
        files = found.cells[index]
        if files.cytoplasm is None:
            self._problem(
                GeometryError(
                    "is a nucleus without its cell: the cytoplasm outline "
                    f"{self._dat_name(found, 'cyt', index)} is missing",
                    files.nucleus,
                )
            )
            return None, None
        try:
            cytoplasm_bytes = files.cytoplasm.read_bytes()
            cytoplasm = parse_dat(cytoplasm_bytes, files.cytoplasm)
            nucleus = None
            nucleus_bytes = None
            if files.nucleus is not None:
                nucleus_bytes = files.nucleus.read_bytes()
                nucleus = parse_dat(nucleus_bytes, files.nucleus)
            for path, polygon in (
                (files.cytoplasm, cytoplasm),
                (files.nucleus, nucleus),
            ):
                if polygon is None:
                    continue
                fault = polygon_problem(polygon.vertices)
                if fault is not None:
                    raise GeometryError(fault[0], path, fault[1])
            if nucleus is not None:
                outside = check_nucleus_inside(cytoplasm.vertices, nucleus.vertices)
                if outside > NUCLEUS_OUTSIDE_TOLERANCE:
                    raise GeometryError(
                        f"the nucleus lies {outside:.0%} outside its cell "
                        f"{files.cytoplasm.name}",
                        files.nucleus,
                    )
        except OSError as error:
            self._problem(
                DatFormatError(f"cannot be read: {error.strerror}", files.cytoplasm)
            )
            return None, None
        except AnnotationError as error:
            self._problem(error)
            return None, None

        label = labels.get(str(index), {})
        class_name = label.get("class", found.folder_class.name)
        if class_name not in self.scheme.names:
            self._problem(
                AnnotationError(
                    f"cell {index} has unknown class {class_name!r} in its review "
                    "labels; the folder's class is used",
                    self.project.labels_path(found.key),
                )
            )
            class_name = found.folder_class.name
        cell = Cell(
            index=index,
            cytoplasm=cytoplasm.vertices,
            nucleus=nucleus.vertices if nucleus is not None else None,
            class_name=class_name,
            origin=Origin(label.get("origin", Origin.ANNOTATION.value)),
            score=label.get("score"),
            review_state=ReviewState(label.get("review_state", "unreviewed")),
            probabilities=label.get("probabilities"),
            cytoplasm_style=cytoplasm.style,
            nucleus_style=nucleus.style if nucleus is not None else cytoplasm.style,
        )
        baseline = _Baseline(
            cytoplasm=cell.cytoplasm.copy(),
            nucleus=None if cell.nucleus is None else cell.nucleus.copy(),
            class_name=cell.class_name,
            review_state=cell.review_state,
            origin=cell.origin,
            cytoplasm_crc=zlib.crc32(cytoplasm_bytes),
            nucleus_crc=zlib.crc32(nucleus_bytes)
            if nucleus_bytes is not None
            else None,
        )
        return cell, baseline

    @staticmethod
    def _dat_name(image: FoundImage | ImageRecord, part: str, index: int) -> str:
        if image.kind is ImageKind.CROPPED:
            return cropped_dat_name(image.stem, part)
        width = getattr(image, "index_width", 2)
        return cluster_dat_name(image.stem, part, index, width)

    # -- queries -----------------------------------------------------------------

    def image(self, key: str) -> ImageRecord:
        return self._by_key[key]

    def cell_count(self) -> int:
        return sum(len(image.cells) for image in self.images)

    def cells(self):
        """Every (image, cell) pair, in image order."""
        for image in self.images:
            for cell in image.cells:
                yield image, cell

    def distinct_cells(self):
        """Every (image, cell) pair counted once: an isolated crop `NNN_KK` is the
        same cell as cell KK of cluster image NNN, so crops count only when their
        cluster image is not in the dataset."""
        for image in self.images:
            if image.kind is ImageKind.CROPPED:
                parent = image.key.replace("/CROPPED/", "/").rsplit("_", 1)[0]
                if parent in self._by_key:
                    continue
            for cell in image.cells:
                yield image, cell

    def counts(self) -> dict[str, dict[str, int]]:
        """Per class: image files, cluster images, isolated crops (by the folder's
        class) and distinct cells (by each cell's own class)."""
        images = Counter(image.folder_class for image in self.images)
        clusters = Counter(
            image.folder_class
            for image in self.images
            if image.kind is ImageKind.CLUSTER
        )
        cells = Counter(cell.class_name for _, cell in self.distinct_cells())
        return {
            name: {
                "images": images.get(name, 0),
                "cluster_images": clusters.get(name, 0),
                "cropped_cells": images.get(name, 0) - clusters.get(name, 0),
                "cells": cells.get(name, 0),
            }
            for name in self.scheme.names
        }

    def cell_paths(self, image: ImageRecord, index: int) -> tuple[Path, Path]:
        """Where a cell's cytoplasm and nucleus files live."""
        directory = image.annotation_dir
        return (
            directory / self._dat_name(image, "cyt", index),
            directory / self._dat_name(image, "nuc", index),
        )

    def is_modified(self, image: ImageRecord) -> bool:
        """Whether the image has edits not yet saved."""
        baselines = self._baselines.get(image.key, {})
        if {cell.index for cell in image.cells} != set(baselines):
            return True
        return any(
            self._geometry_changed(cell, baselines[cell.index])[0]
            or self._geometry_changed(cell, baselines[cell.index])[1]
            or self._label_changed(cell, baselines[cell.index])
            for cell in image.cells
        )

    def unsaved_cells(
        self, image: ImageRecord
    ) -> tuple[list[int], list[int], list[int]]:
        """The indices of the image's cells changed, added and deleted since it was
        read or last saved."""
        baselines = self._baselines.get(image.key, {})
        changed, added = [], []
        for cell in image.cells:
            baseline = baselines.get(cell.index)
            if baseline is None:
                added.append(cell.index)
            elif any(self._geometry_changed(cell, baseline)) or self._label_changed(
                cell, baseline
            ):
                changed.append(cell.index)
        deleted = sorted(set(baselines) - {cell.index for cell in image.cells})
        return changed, added, deleted

    def disk_fingerprint(self, image: ImageRecord) -> dict[str, int]:
        """The crc32 of each of the image's `.dat` files as it was read or last
        saved, by path relative to the dataset: what unsaved edits are based on."""
        fingerprint = {}
        for index, baseline in sorted(self._baselines.get(image.key, {}).items()):
            paths = self.cell_paths(image, index)
            for path, crc in zip(
                paths, (baseline.cytoplasm_crc, baseline.nucleus_crc), strict=True
            ):
                if crc is not None:
                    fingerprint[path.relative_to(self.root).as_posix()] = crc
        return fingerprint

    # -- saving ------------------------------------------------------------------

    @staticmethod
    def _geometry_changed(cell: Cell, baseline: _Baseline) -> tuple[bool, bool]:
        cytoplasm = not np.array_equal(cell.cytoplasm, baseline.cytoplasm)
        if cell.nucleus is None or baseline.nucleus is None:
            nucleus = (cell.nucleus is None) != (baseline.nucleus is None)
        else:
            nucleus = not np.array_equal(cell.nucleus, baseline.nucleus)
        return cytoplasm, nucleus

    @staticmethod
    def _label_changed(cell: Cell, baseline: _Baseline) -> bool:
        return (
            cell.class_name != baseline.class_name
            or cell.review_state != baseline.review_state
            or cell.origin != baseline.origin
        )

    def add_cell(self, image: ImageRecord, cell: Cell) -> Cell:
        """Give a new cell the next free index and add it to the image (unsaved)."""
        cell.index = image.next_free_index()
        if image.kind is ImageKind.CROPPED and image.cells:
            raise ValueError("a cropped cell image holds exactly one cell")
        image.cells.append(cell)
        return cell

    def save(self, image: ImageRecord, author: str | None = None) -> SaveReport:
        """Write the image's changed cells and labels; old files go to backups first."""
        author = author or current_user()
        baselines = self._baselines.setdefault(image.key, {})
        report = SaveReport()
        backup_dir = self.project.new_backup_dir()
        labels = self._labels.setdefault(image.key, {})
        labels_on_disk = json.loads(json.dumps(labels))
        when = now_iso()

        plan: list[tuple[Path, bytes | None, int | None]] = []
        current = {cell.index: cell for cell in image.cells}
        for index, baseline in baselines.items():
            if index not in current:
                cytoplasm_path, nucleus_path = self.cell_paths(image, index)
                plan.append((cytoplasm_path, None, baseline.cytoplasm_crc))
                if baseline.nucleus is not None:
                    plan.append((nucleus_path, None, baseline.nucleus_crc))
                labels.pop(str(index), None)
        for cell in image.cells:
            cytoplasm_path, nucleus_path = self.cell_paths(image, cell.index)
            baseline = baselines.get(cell.index)
            changes = []
            if baseline is None:
                cytoplasm_changed, nucleus_changed = True, cell.nucleus is not None
                changes.append("drew the cell")
            else:
                cytoplasm_changed, nucleus_changed = self._geometry_changed(
                    cell, baseline
                )
                if cytoplasm_changed:
                    changes.append("changed the cell outline")
                if nucleus_changed:
                    changes.append("changed the nucleus outline")
                if cell.class_name != baseline.class_name:
                    changes.append(f"class {baseline.class_name} -> {cell.class_name}")
                if cell.review_state != baseline.review_state:
                    changes.append(f"review {cell.review_state.value}")
            if cytoplasm_changed:
                plan.append(
                    (
                        cytoplasm_path,
                        format_dat(cell.cytoplasm, cell.cytoplasm_style),
                        baseline.cytoplasm_crc if baseline else None,
                    )
                )
            if nucleus_changed:
                if cell.nucleus is None:
                    data = None
                else:
                    data = format_dat(cell.nucleus, cell.nucleus_style)
                plan.append(
                    (nucleus_path, data, baseline.nucleus_crc if baseline else None)
                )
            entry = self._label_entry(image, cell, labels.get(str(cell.index)))
            if changes:
                history = entry.setdefault("history", [])
                history.append(
                    {"who": author, "when": when, "what": "; ".join(changes)}
                )
            if entry != labels.get(str(cell.index), {}):
                if entry:
                    labels[str(cell.index)] = entry
                else:
                    labels.pop(str(cell.index), None)
                report.labels_written = True
        if any(index not in current for index in baselines):
            # A deleted cell's entry must leave an existing labels file; any other
            # label change made in the same save must still be written.
            report.labels_written = (
                report.labels_written or self.project.labels_path(image.key).exists()
            )

        try:
            self._check_conflicts(plan)
            for path, data, _ in plan:
                if path.exists():
                    if report.backup_dir is None:
                        report.backup_dir = backup_dir
                    if data is None:
                        report.backed_up.append(
                            move_to_backup(path, self.root, backup_dir)
                        )
                        report.removed.append(path)
                        continue
                    report.backed_up.append(copy_to_backup(path, self.root, backup_dir))
                if data is not None:
                    atomic_write(path, data)
                    report.written.append(path)
            if report.labels_written:
                self._write_labels(image, labels)
        except SaveError:
            # The labels file was not written: a retry must compare with what is
            # on disk, not with the entries planned above.
            self._labels[image.key] = labels_on_disk
            raise
        self._rebase(image)
        if report.changed:
            log.info(
                "Saved %s: %d files written, %d removed",
                image.key,
                len(report.written),
                len(report.removed),
            )
        return report

    def _label_entry(self, image: ImageRecord, cell: Cell, old: dict | None) -> dict:
        entry = {k: v for k, v in (old or {}).items() if k == "history"}
        if cell.class_name != image.folder_class:
            entry["class"] = cell.class_name
        if cell.review_state is not ReviewState.UNREVIEWED:
            entry["review_state"] = cell.review_state.value
        if cell.origin is not Origin.ANNOTATION:
            entry["origin"] = cell.origin.value
        if cell.score is not None:
            entry["score"] = cell.score
        if cell.probabilities:
            entry["probabilities"] = cell.probabilities
        return {key: entry[key] for key in sorted(entry)}

    def _check_conflicts(self, plan) -> None:
        for path, data, expected_crc in plan:
            if _already_saved(path, data):
                # Written (or removed) by an earlier save of these edits that
                # failed further on: retrying it overwrites nobody's change.
                continue
            if expected_crc is None:
                if path.exists() and data is not None:
                    raise ConflictError(
                        "appeared on disk after the dataset was opened",
                        path,
                        "reopen the image to see the other change before saving",
                    )
                continue
            try:
                actual = zlib.crc32(path.read_bytes())
            except FileNotFoundError:
                actual = None
            if actual != expected_crc:
                raise ConflictError(
                    "was changed on disk by someone else since it was opened",
                    path,
                    "reopen the image to see the other change; your edits are "
                    "still in the window",
                )

    def _write_labels(self, image: ImageRecord, labels: dict) -> None:
        path = self.project.labels_path(image.key)
        if not labels and not path.exists():
            return
        atomic_write_json(path, {"image": image.key, "cells": labels})

    def _rebase(self, image: ImageRecord) -> None:
        """After a save, what is in memory is what is on disk."""
        baselines = {}
        for cell in image.cells:
            cytoplasm_path, nucleus_path = self.cell_paths(image, cell.index)
            baselines[cell.index] = _Baseline(
                cytoplasm=cell.cytoplasm.copy(),
                nucleus=None if cell.nucleus is None else cell.nucleus.copy(),
                class_name=cell.class_name,
                review_state=cell.review_state,
                origin=cell.origin,
                cytoplasm_crc=_crc_or_none(cytoplasm_path),
                nucleus_crc=_crc_or_none(nucleus_path),
            )
        image.used_indices |= set(baselines)
        self._baselines[image.key] = baselines

    def save_all(self, author: str | None = None) -> list[SaveReport]:
        return [
            self.save(image, author) for image in self.images if self.is_modified(image)
        ]

    def ensure_project(self) -> None:
        """Write `project.json` if the dataset has none yet."""
        if not self.project.settings_path.exists():
            self.project.save_settings(self.settings)


def _already_saved(path: Path, data: bytes | None) -> bool:
    """Whether the file is already as a save would leave it: `data`, or gone."""
    if data is None:
        return not path.exists()
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _crc_or_none(path: Path) -> int | None:
    try:
        return zlib.crc32(path.read_bytes())
    except FileNotFoundError:
        return None


def new_cell(
    cytoplasm: np.ndarray,
    nucleus: np.ndarray | None,
    class_name: str,
    **fields,
) -> Cell:
    """A cell not yet on disk, with the default `.dat` style."""
    return Cell(
        index=0,
        cytoplasm=cytoplasm,
        nucleus=nucleus,
        class_name=class_name,
        cytoplasm_style=fields.pop("cytoplasm_style", DEFAULT_STYLE),
        nucleus_style=fields.pop("nucleus_style", DEFAULT_STYLE),
        **fields,
    )
