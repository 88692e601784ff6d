"""The fine-tuning dialog: which model, from which weights, on which classes,
for how long and on which device; the recipe's defaults filled in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.models import TASKS, archs, default_arch
from engine.training import TrainingConfig
from engine.training.config import SCHEMES

TASK_NAMES = {
    "classifier": "Cell classifier",
    "unet": "U-Net segmentation",
    "maskrcnn": "Mask R-CNN instances",
}
START_CACHED = "ImageNet weights (if cached)"
START_RANDOM = "Random weights"


def devices() -> list[tuple[str, str]]:
    """(label, device) of each GPU torch finds, then the CPU."""
    import torch

    found = []
    for index in range(torch.cuda.device_count()):
        name = torch.cuda.get_device_name(index)
        found.append((f"GPU {index}: {name}", f"cuda:{index}"))
    found.append(("CPU", "cpu"))
    return found


class FineTuneDialog(QDialog):
    """Asks for a fine-tuning run; `config()` and `out_folder()` say what."""

    def __init__(
        self,
        dataset_root: Path,
        start_from: Path | None = None,
        parent=None,
        device: str = "auto",
    ):
        super().__init__(parent)
        self.setWindowTitle("Fine-tune a model")
        self.dataset_root = Path(dataset_root)
        form = QFormLayout(self)

        self.task = QComboBox()
        for task in TASKS:
            self.task.addItem(TASK_NAMES.get(task, task), task)
        self.arch = QComboBox()
        self.start = QComboBox()
        self.start.setEditable(True)
        self.start.addItems([START_CACHED, START_RANDOM])
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_weights)
        start_row = QWidget()
        row = QHBoxLayout(start_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.start, 1)
        row.addWidget(browse)
        self.scheme = QComboBox()
        self.scheme.addItems(SCHEMES)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 512)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setSingleStep(1e-5)
        self.image_size = QSpinBox()
        self.image_size.setRange(32, 2048)
        self.image_size.setSingleStep(32)
        self.val_share = self._share_box()
        self.test_share = self._share_box()
        self.device = QComboBox()
        for label, found in devices():
            self.device.addItem(label, found)
        self.set_device(device)
        self.name = QLineEdit()

        form.addRow("Model", self.task)
        form.addRow("Architecture", self.arch)
        form.addRow("Start from", start_row)
        form.addRow("Classes", self.scheme)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.lr)
        form.addRow("Image size (px)", self.image_size)
        form.addRow("Held out for validation", self.val_share)
        form.addRow("Held out for testing", self.test_share)
        form.addRow("Device", self.device)
        form.addRow("Save as", self.name)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

        self.task.currentIndexChanged.connect(self._fill_task)
        self.arch.currentIndexChanged.connect(self._fill_defaults)
        self._fill_task()
        if start_from is not None:
            self.start.setCurrentText(str(start_from))

    @staticmethod
    def _share_box() -> QDoubleSpinBox:
        """A share of each class's cluster images, in per cent."""
        box = QDoubleSpinBox()
        box.setRange(0.0, 90.0)
        box.setDecimals(0)
        box.setSuffix(" %")
        box.setToolTip("0 % when a class has too few images to hold some out")
        return box

    def set_device(self, device: str) -> None:
        """Choose `device` ("auto": the first GPU, else the CPU); a GPU that is
        not there falls back to the CPU."""
        device = "cuda:0" if device == "cuda" else device
        index = 0 if device == "auto" else self.device.findData(device)
        self.device.setCurrentIndex(
            index if index >= 0 else self.device.findData("cpu")
        )

    def set_task(self, task: str, arch: str | None = None) -> None:
        self.task.setCurrentIndex(self.task.findData(task))
        if arch is not None:
            self.arch.setCurrentIndex(self.arch.findData(arch))

    def _fill_task(self) -> None:
        task = self.task.currentData()
        self.arch.blockSignals(True)
        self.arch.clear()
        for spec in archs(task):
            self.arch.addItem(f"{spec.name} — {spec.description}", spec.name)
        self.arch.setCurrentIndex(self.arch.findData(default_arch(task).name))
        self.arch.blockSignals(False)
        self._fill_defaults()

    def _fill_defaults(self) -> None:
        """The engine's recipe for this task and architecture."""
        recipe = TrainingConfig(
            task=self.task.currentData(), arch=self.arch.currentData()
        )
        self.scheme.setCurrentText(recipe.scheme)
        self.epochs.setValue(recipe.epochs)
        self.batch_size.setValue(recipe.batch_size)
        self.lr.setValue(recipe.lr)
        self.image_size.setValue(recipe.image_size)
        self.val_share.setValue(100 * recipe.val_fraction)
        self.test_share.setValue(100 * recipe.test_fraction)
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        self.name.setText(f"{recipe.arch}-{stamp}")

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Starting weights", "", "Weights (*.safetensors *.pt *.pth *.json)"
        )
        if path:
            # A checkpoint's model.json stands for its folder.
            chosen = Path(path)
            self.start.setCurrentText(
                str(chosen.parent if chosen.name == "model.json" else chosen)
            )

    def pretrained(self) -> str:
        text = self.start.currentText().strip()
        if text == START_CACHED:
            return "auto"
        if text in (START_RANDOM, ""):
            return "none"
        return text

    def config(self) -> TrainingConfig:
        """The run asked for."""
        return TrainingConfig(
            task=self.task.currentData(),
            arch=self.arch.currentData(),
            scheme=self.scheme.currentText(),
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.lr.value(),
            image_size=self.image_size.value(),
            device=self.device.currentData(),
            pretrained=self.pretrained(),
            val_fraction=self.val_share.value() / 100,
            test_fraction=self.test_share.value() / 100,
        )

    def out_folder(self) -> Path:
        """Where the run is written: under the dataset's .cervix/models/."""
        name = self.name.text().strip() or self.arch.currentData()
        return self.dataset_root / ".cervix" / "models" / name
