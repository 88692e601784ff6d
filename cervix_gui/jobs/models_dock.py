"""The models dock: the dataset's checkpoints and the ones the user added, each
with its model card; the active model of each task; fine-tuning and running
inference on the shown image, the selected images, the dataset or a slide."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.jobs.finetune_dialog import FineTuneDialog
from cervix_gui.jobs.job_queue import CANCELLED, DONE, JobQueue, JobRecord
from cervix_gui.jobs.job_worker import InferenceJob, TrainingJob
from engine.errors import CervixError
from engine.inference import ImageDone
from engine.models import TASKS, read_card, resolve_checkpoint

log = logging.getLogger(__name__)

ADDED_KEY = "models/added"
PATH_ROLE = Qt.ItemDataRole.UserRole
SCOPES = ("Current image", "Selected images", "Whole dataset", "A slide or image…")
MESSAGE_MS = 10_000


def card_text(folder: Path) -> str:
    """A checkpoint's card, as a person reads it."""
    card = read_card(folder)
    data = card.data or {}
    trained_on = data.get("dataset") or data.get("root") or "unknown data"
    figures = card.metrics.get("test") or card.metrics.get("validation") or {}
    shown = ", ".join(
        f"{name} {value:.3f}"
        for name, value in figures.items()
        if isinstance(value, int | float)
    )
    return "\n".join(
        [
            f"{card.task} · {card.arch} · {card.input_size} px",
            f"Classes ({card.class_scheme}): {', '.join(card.classes)}",
            f"Trained on: {trained_on}",
            f"Figures: {shown or 'none recorded'}",
            f"Epoch {card.epoch}, saved {card.created}",
        ]
    )


class ModelsDock(QWidget):
    """Checkpoints of the window's dataset and those added by hand."""

    def __init__(self, window, queue: JobQueue, settings: QSettings | None = None):
        super().__init__(window)
        self.window = window
        self.queue = queue
        self.settings = settings or QSettings()
        self.dialog: FineTuneDialog | None = None
        layout = QVBoxLayout(self)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model", "Task", "Active"])
        self.tree.setRootIsDecorated(False)
        self.tree.currentItemChanged.connect(self._show_card)
        layout.addWidget(self.tree, 1)
        self.card = QLabel("")
        self.card.setWordWrap(True)
        self.card.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.card)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add…")
        self.add_button.clicked.connect(self.choose_checkpoint)
        self.activate_button = QPushButton("Make active")
        self.activate_button.clicked.connect(self.activate_selected)
        self.finetune_button = QPushButton("Fine-tune…")
        self.finetune_button.clicked.connect(self.open_fine_tune_dialog)
        for button in (self.add_button, self.activate_button, self.finetune_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        run_row = QHBoxLayout()
        self.scope = QComboBox()
        self.scope.addItems(SCOPES)
        self.run_button = QPushButton("Run inference")
        self.run_button.setToolTip("Run the active model of each task")
        self.run_button.clicked.connect(lambda: self.run_inference())
        run_row.addWidget(self.scope, 1)
        run_row.addWidget(self.run_button)
        layout.addLayout(run_row)
        queue.event.connect(self._on_event)
        queue.ended.connect(self._on_ended)
        self.refresh()

    # -- the list --------------------------------------------------------------

    def dataset_root(self) -> Path | None:
        dataset = getattr(self.window, "dataset", None)
        return None if dataset is None else Path(dataset.root)

    def checkpoints(self) -> list[Path]:
        """The dataset's runs under .cervix/models/, then the added ones."""
        found: list[Path] = []
        root = self.dataset_root()
        if root is not None and (root / ".cervix" / "models").is_dir():
            for folder in sorted((root / ".cervix" / "models").iterdir()):
                if folder.is_dir() and self._readable(folder):
                    found.append(folder)
        for text in self._added():
            path = Path(text)
            if path not in found and self._readable(path):
                found.append(path)
        return found

    @staticmethod
    def _readable(folder: Path) -> bool:
        try:
            resolve_checkpoint(folder)
        except CervixError:
            return False
        return True

    def _added(self) -> list[str]:
        value = self.settings.value(ADDED_KEY, [])
        return [value] if isinstance(value, str) else list(value or [])

    def add_checkpoint(self, folder: Path) -> None:
        """Remember a checkpoint kept outside the dataset; refused unless readable."""
        read_card(folder)  # raises a typed error naming the folder
        added = self._added()
        if str(folder) not in added:
            self.settings.setValue(ADDED_KEY, [*added, str(folder)])
        self.refresh(select=folder)

    def choose_checkpoint(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Add a checkpoint folder")
        if not chosen:
            return
        try:
            self.add_checkpoint(Path(chosen))
        except CervixError as error:
            self._say(f"Not added: {error.user_message()}")

    def active(self, task: str) -> Path | None:
        """The checkpoint that runs for `task`, if one is chosen and still there."""
        value = self.settings.value(f"models/active/{task}")
        if not value or not self._readable(Path(value)):
            return None
        return Path(value)

    def make_active(self, folder: Path) -> None:
        card = read_card(folder)
        self.settings.setValue(f"models/active/{card.task}", str(folder))
        self.refresh(select=folder)

    def activate_selected(self) -> None:
        folder = self.selected()
        if folder is not None:
            try:
                self.make_active(folder)
            except CervixError as error:
                self._say(error.user_message())

    def selected(self) -> Path | None:
        item = self.tree.currentItem()
        return None if item is None else Path(item.data(0, PATH_ROLE))

    def refresh(self, select: Path | None = None) -> None:
        """List the checkpoints again, keeping (or moving to) the selection."""
        select = select or self.selected()
        self.tree.clear()
        actives = {self.active(task) for task in TASKS}
        for folder in self.checkpoints():
            try:
                task = read_card(folder).task
            except CervixError as error:
                log.warning("Model not listed: %s", error.user_message())
                continue
            item = QTreeWidgetItem(
                [folder.name, task, "✓" if folder in actives else ""]
            )
            item.setData(0, PATH_ROLE, str(folder))
            item.setToolTip(0, str(folder))
            self.tree.addTopLevelItem(item)
            if folder == select:
                self.tree.setCurrentItem(item)
        self.tree.resizeColumnToContents(0)

    def _show_card(self, item, _previous=None) -> None:
        if item is None:
            self.card.setText("")
            return
        try:
            self.card.setText(card_text(Path(item.data(0, PATH_ROLE))))
        except CervixError as error:
            self.card.setText(error.user_message())

    # -- fine-tuning -----------------------------------------------------------

    def open_fine_tune_dialog(self) -> FineTuneDialog | None:
        """Show the dialog; accepting it queues the run."""
        root = self.dataset_root()
        if root is None:
            self._say("Open a dataset to fine-tune a model on its annotations.")
            return None
        start = self.selected()
        self.dialog = FineTuneDialog(root, start, self)
        if start is not None:
            try:
                card = read_card(start)
                self.dialog.set_task(card.task, card.arch)
                self.dialog.start.setCurrentText(str(start))
            except CervixError as error:
                log.warning("Starting model not read: %s", error.user_message())
        self.dialog.accepted.connect(self._start_fine_tuning)
        self.dialog.open()
        return self.dialog

    def _start_fine_tuning(self) -> None:
        dialog = self.dialog
        try:
            config = dialog.config()
        except (CervixError, ValueError) as error:
            self._say(f"Not started: {error}")
            return
        starting = {}
        if self._readable(Path(config.pretrained or "")):
            figures = read_card(Path(config.pretrained)).metrics
            starting = figures.get("test") or figures.get("validation") or {}
        job = TrainingJob(config, dialog.dataset_root, dialog.out_folder(), starting)
        self.queue.submit(job)

    # -- inference -------------------------------------------------------------

    def active_models(self) -> list[Path]:
        return [path for task in TASKS if (path := self.active(task)) is not None]

    def run_inference(self, scope: str | None = None, slide: Path | None = None):
        """Queue the active models on `scope` (one of SCOPES); the record, or None
        with a message in the status bar when there is nothing to run."""
        from engine.inference.inputs import dataset_jobs, resolve_input

        scope = scope or self.scope.currentText()
        models = self.active_models()
        if not models:
            self._say("Make a model active first (select it, then Make active).")
            return None
        only_classifier = {read_card(m).task for m in models} == {"classifier"}
        try:
            if scope == SCOPES[3]:
                if slide is None:
                    chosen, _ = QFileDialog.getOpenFileName(self, "Image or slide")
                    if not chosen:
                        return None
                    slide = Path(chosen)
                source = resolve_input(slide, with_cells=only_classifier)
                jobs, store = source.jobs, source.store
            else:
                dataset = self.window.dataset
                if dataset is None:
                    self._say("Open a dataset first.")
                    return None
                jobs = dataset_jobs(dataset, only_classifier)
                keys = self._keys_for(scope)
                if keys is not None:
                    jobs = [job for job in jobs if job.key in keys]
                store = self.window.prediction_store()
        except CervixError as error:
            self._say(f"Not started: {error.user_message()}")
            return None
        if not jobs:
            self._say(f"{scope}: no images the models can analyse.")
            return None
        return self.queue.submit(InferenceJob(models, jobs, store))

    def _keys_for(self, scope: str) -> set[str] | None:
        if scope == SCOPES[0]:
            record = self.window.current_record()
            return set() if record is None else {record.key}
        if scope == SCOPES[1]:
            tree = self.window.browser.tree
            return {
                key
                for item in tree.selectedItems()
                if (key := item.data(0, Qt.ItemDataRole.UserRole)) is not None
            }
        return None

    def _on_event(self, record: JobRecord, engine_event) -> None:
        """An analysed image that is on screen is shown at once."""
        if not isinstance(engine_event, ImageDone):
            return
        shown = self.window.current_record()
        if shown is not None and shown.key == engine_event.key:
            self.window.predictions.load(
                shown, record.job.store, self.window.class_palette
            )

    def _on_ended(self, record: JobRecord) -> None:
        if record.state not in (DONE, CANCELLED):
            self._say(f"Job {record.number} failed: {record.message}")
            return
        if record.job.kind == "training" and record.result is not None:
            checkpoint = record.result.checkpoint
            self.refresh(select=record.job.out if checkpoint else None)
            self._say(f"Job {record.number} {record.state}: {record.job.title}")

    def _say(self, text: str) -> None:
        status = getattr(self.window, "status", None)
        if status is not None:
            status.showMessage(text, MESSAGE_MS)
        log.info("%s", text)
