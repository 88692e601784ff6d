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
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.jobs.job_queue import CANCELLED, DONE, JobQueue, JobRecord
from cervix_gui.jobs.job_worker import InferenceJob, TrainingJob
from cervix_gui.jobs.model_cards import (
    ListedModel,
    candidate_folders,
    card_text,
    read_cards,
)
from cervix_gui.workers import Job, start_job
from engine.errors import CervixError

log = logging.getLogger(__name__)

ADDED_KEY = "models/added"
DEVICE_KEY = "models/device"  # written by the preferences: auto, cpu, cuda:N
TASKS = ("classifier", "unet", "maskrcnn")  # engine.models.TASKS, without torch
PATH_ROLE = Qt.ItemDataRole.UserRole
SCOPES = ("Current image", "Selected images", "Whole dataset", "A slide or image…")
MESSAGE_MS = 10_000


def preferred_device(settings: QSettings) -> str:
    """The device the preferences name for the models; "auto" when none."""
    value = settings.value(DEVICE_KEY)
    text = str(value).strip().lower() if value else ""
    return text or "auto"


class ModelsDock(QScrollArea):
    """Checkpoints of the window's dataset and those added by hand."""

    def __init__(self, window, queue: JobQueue, settings: QSettings | None = None):
        super().__init__(window)
        self.window = window
        self.queue = queue
        self.settings = settings if settings is not None else QSettings()
        self.dialog = None  # the FineTuneDialog last opened
        self.listed: dict[Path, ListedModel] = {}
        self._reading: Job | None = None
        self._read_again: Path | None | bool = False
        inner = QWidget()
        layout = QVBoxLayout(inner)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model", "Task", "Active"])
        self.tree.setRootIsDecorated(False)
        # A few rows are enough; the dock may be short when the window is.
        self.tree.setMinimumHeight(60)
        self.tree.currentItemChanged.connect(self._show_card)
        layout.addWidget(self.tree, 1)
        self.card = QLabel("Open a dataset to list its models.")
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
        self.setWidget(inner)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        queue.event.connect(self._on_event)
        queue.ended.connect(self._on_ended)

    # -- the list --------------------------------------------------------------

    def dataset_root(self) -> Path | None:
        dataset = getattr(self.window, "dataset", None)
        return None if dataset is None else Path(dataset.root)

    def checkpoints(self) -> list[Path]:
        """The listed checkpoints: the dataset's runs, then the added ones."""
        return list(self.listed)

    def busy(self) -> bool:
        """Whether the cards are still being read."""
        return self._reading is not None

    def _added(self) -> list[str]:
        value = self.settings.value(ADDED_KEY, [])
        return [value] if isinstance(value, str) else list(value or [])

    def add_checkpoint(self, folder: Path) -> None:
        """Remember a checkpoint kept outside the dataset; refused unless readable."""
        from engine.models import read_card

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
        from engine.models import resolve_checkpoint

        value = self.settings.value(f"models/active/{task}")
        if not value:
            return None
        try:
            resolve_checkpoint(value)
        except CervixError:
            return None
        return Path(value)

    def make_active(self, folder: Path) -> None:
        from engine.models import read_card

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
        """List the checkpoints again, keeping (or moving to) the selection. The
        cards are read in a worker; with no checkpoint folder, nothing is read."""
        select = select or self.selected()
        if self._reading is not None:
            self._read_again = select
            return
        folders = candidate_folders(self.dataset_root(), self._added())
        if not folders:
            self._fill([], select)
            return
        self._reading = start_job(
            read_cards,
            folders,
            on_finished=lambda listed: self._on_read(listed, select),
            on_failed=self._on_read_failed,
        )

    def _on_read(self, listed: list[ListedModel], select: Path | None) -> None:
        self._reading = None
        if getattr(self.window, "closed", False):
            return  # read for a window that has closed since
        if self._read_again is not False:
            select, self._read_again = self._read_again, False
            self.refresh(select)
            return
        self._fill(listed, select)

    def _on_read_failed(self, message: str) -> None:
        self._reading = None
        if getattr(self.window, "closed", False):
            return
        self._read_again = False
        self.card.setText(f"The models could not be listed: {message}")

    def _fill(self, listed: list[ListedModel], select: Path | None) -> None:
        self.listed = {model.folder: model for model in listed}
        self.tree.clear()
        actives = {
            str(value)
            for task in TASKS
            if (value := self.settings.value(f"models/active/{task}"))
        }
        for model in listed:
            folder, task = model.folder, model.card.task
            mark = "\u2713" if str(folder) in actives else ""
            item = QTreeWidgetItem([folder.name, task, mark])
            item.setData(0, PATH_ROLE, str(folder))
            item.setToolTip(0, str(folder))
            self.tree.addTopLevelItem(item)
            if folder == select:
                self.tree.setCurrentItem(item)
        self.tree.resizeColumnToContents(0)
        if not listed:
            self.card.setText(
                "No models yet: fine-tune one on this dataset, or add a checkpoint."
                if self.dataset_root() is not None
                else "Open a dataset to list its models."
            )
        elif self.tree.currentItem() is None:
            self.card.setText("Select a model to see its card.")

    def _show_card(self, item, _previous=None) -> None:
        if item is None:
            return
        model = self.listed.get(Path(item.data(0, PATH_ROLE)))
        if model is not None:
            self.card.setText(card_text(model.card))

    # -- fine-tuning -----------------------------------------------------------

    def open_fine_tune_dialog(self):
        """Show the fine-tuning dialog; accepting it queues the run."""
        from cervix_gui.jobs.finetune_dialog import FineTuneDialog

        root = self.dataset_root()
        if root is None:
            self._say("Open a dataset to fine-tune a model on its annotations.")
            return None
        start = self.selected()
        self.dialog = FineTuneDialog(
            root, None, self, device=preferred_device(self.settings)
        )
        if start is not None and start in self.listed:
            card = self.listed[start].card
            self.dialog.set_task(card.task, card.arch)
            self.dialog.start.setCurrentText(str(start))
        self.dialog.accepted.connect(self._start_fine_tuning)
        self.dialog.open()
        return self.dialog

    def _start_fine_tuning(self) -> None:
        from engine.models import read_card

        dialog = self.dialog
        try:
            config = dialog.config()
        except (CervixError, ValueError) as error:
            self._say(f"Not started: {error}")
            return
        job = TrainingJob(config, dialog.dataset_root, dialog.out_folder())
        start = job.starting_checkpoint()
        if start is not None:
            try:
                figures = read_card(start).metrics
                job.starting_metrics = (
                    figures.get("test") or figures.get("validation") or {}
                )
                job.comparison = "the start's figures are from its card"
            except CervixError as error:
                # The run itself says so, in the jobs dock, when it starts.
                log.info("Starting model not read: %s", error.user_message())
        self.queue.submit(job)

    # -- inference -------------------------------------------------------------

    def active_models(self) -> list[Path]:
        return [path for task in TASKS if (path := self.active(task)) is not None]

    def run_inference(self, scope: str | None = None, slide: Path | None = None):
        """Queue the active models on `scope` (one of SCOPES); the record, or None
        with a message in the status bar when there is nothing to run."""
        from engine.inference.inputs import dataset_jobs, resolve_input
        from engine.models import read_card

        scope = scope or self.scope.currentText()
        models = self.active_models()
        if not models:
            self._say("Make a model active first (select it, then Make active).")
            return None
        try:
            only_classifier = {read_card(m).task for m in models} == {"classifier"}
            single = getattr(self.window, "single_image", None)
            if scope == SCOPES[3] or (scope == SCOPES[0] and single is not None):
                if scope == SCOPES[0]:
                    slide = single.path
                elif slide is None:
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
        device = preferred_device(self.settings)
        return self.queue.submit(InferenceJob(models, jobs, store, device=device))

    def _keys_for(self, scope: str) -> set[str] | None:
        if scope == SCOPES[0]:
            record = self.window.current_record()
            return set() if record is None else {record.key}
        if scope == SCOPES[1]:
            return set(self.window.browser.selected_keys())
        return None

    def _on_event(self, record: JobRecord, engine_event) -> None:
        """Cells found in the image on screen are drawn as they come, and the
        image is read in full from the store once it is done."""
        from engine.inference import CellsFound, ImageDone

        if isinstance(engine_event, CellsFound):
            shown = self.window.current_record()
            if shown is not None and shown.key == engine_event.image_key:
                self.window.predictions.add_found(
                    shown, engine_event.cells, self.window.class_palette
                )
        elif isinstance(engine_event, ImageDone):
            self._show_if_shown(record, engine_event.key)

    def _show_if_shown(self, record: JobRecord, key: str) -> None:
        shown = self.window.current_record()
        if shown is not None and shown.key == key:
            self.window.predictions.load(
                shown, record.job.store, self.window.class_palette
            )

    def _on_ended(self, record: JobRecord) -> None:
        if record.state not in (DONE, CANCELLED):
            self._say(f"Job {record.number} failed: {record.message}")
            return
        self._say(f"Job {record.number} {record.state}: {record.job.title}")
        if record.job.kind == "training" and record.result is not None:
            checkpoint = record.result.checkpoint
            self.refresh(select=record.job.out if checkpoint else None)
        elif record.job.kind == "inference":
            review = getattr(self.window, "review", None)
            if review is not None:
                review.refresh()  # the new run is there to review

    def _say(self, text: str) -> None:
        status = getattr(self.window, "status", None)
        if status is not None:
            status.showMessage(text, MESSAGE_MS)
        log.info("%s", text)
