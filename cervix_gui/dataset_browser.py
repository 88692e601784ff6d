"""The dataset browser: the images grouped by class with their cell counts, the
dataset's problems, and a clear mark on a synthetic sample."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cervix_gui.palette import ClassPalette, swatch_icon
from cervix_gui.problem_list import ProblemList
from engine.annotations import Dataset, ImageKind, ImageRecord, ReviewState

IMAGE_KEY_ROLE = Qt.ItemDataRole.UserRole
CLASS_NAME_ROLE = Qt.ItemDataRole.UserRole + 1
UNSAVED_MARK = "\u25cf"  # a dot, as editors mark an unsaved file
REVIEWED_MARK = "\u2713"
UNSAVED_COLOUR = QColor("#d97b00")
REVIEWED_COLOUR = QColor("#1e8e3e")
SYNTHETIC_TEXT = (
    "Synthetic sample: drawn by Cervix Studio to show how it works. "
    "These are not cells of a patient."
)


def synthetic_label(text: str = SYNTHETIC_TEXT) -> QLabel:
    """The pale yellow mark that says synthetic data is shown; hidden at first."""
    label = QLabel(text)
    label.setObjectName("syntheticBanner")
    label.setWordWrap(True)
    label.setStyleSheet(
        "#syntheticBanner { background: #fff1c2; color: #5c4100;"
        " border: 1px solid #e0b93f; border-radius: 3px; padding: 6px; }"
    )
    label.hide()
    return label


def _images(count: int) -> str:
    return "1 image" if count == 1 else f"{count} images"


class DatasetBrowser(QWidget):
    """A tree of class > image (> isolated cells) with cell counts. The current
    image is the one shown; Ctrl- and Shift-clicks select more images, for the
    tools that work on "the selected images"."""

    image_selected = Signal(str)  # image key
    selection_changed = Signal()  # the selected images changed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.synthetic_banner = synthetic_label()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )

        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Image", "Cells", ""])
        self.tree.headerItem().setToolTip(
            2, f"{UNSAVED_MARK} unsaved edits, {REVIEWED_MARK} every cell reviewed"
        )
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        self.tree.itemSelectionChanged.connect(self.selection_changed)

        self.problems = ProblemList()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.problems)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.synthetic_banner)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)

        self._items: dict[str, QTreeWidgetItem] = {}
        self._dataset: Dataset | None = None

    def set_dataset(self, dataset: Dataset, palette: ClassPalette) -> None:
        """List `dataset`'s images under their classes, and its problems."""
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items.clear()
        self._dataset = dataset
        for cell_class in dataset.scheme.classes:
            images = [i for i in dataset.images if i.folder_class == cell_class.name]
            if images:
                self._add_class(cell_class.name, images, palette)
        # Classes open, their (long) lists of isolated cells closed.
        for row in range(self.tree.topLevelItemCount()):
            self.tree.topLevelItem(row).setExpanded(True)
        self.tree.blockSignals(False)
        self.refresh_marks()

        self.synthetic_banner.setVisible(dataset.settings.synthetic)
        self.summary.setText(self._summary(dataset))
        self.summary.setToolTip(str(dataset.root))
        self.problems.show_problems(dataset)

    @staticmethod
    def _summary(dataset: Dataset) -> str:
        """Images, cells and classes, each cell counted once (see `_add_class`)."""
        cluster = [i for i in dataset.images if i.kind is ImageKind.CLUSTER]
        cropped = [i for i in dataset.images if i.kind is ImageKind.CROPPED]
        counted = cluster or cropped
        cells = sum(len(image.cells) for image in counted)
        classes = len({image.folder_class for image in dataset.images})
        text = (
            f"<b>{dataset.root.name}</b><br>{_images(len(counted))}, {cells} cells, "
            f"{classes} classes"
        )
        if cluster and cropped:
            text += f"<br>and {len(cropped)} isolated cells cut from them"
        return text

    def _add_class(
        self, class_name: str, images: list[ImageRecord], palette: ClassPalette
    ) -> None:
        cluster = [image for image in images if image.kind is ImageKind.CLUSTER]
        cropped = [image for image in images if image.kind is ImageKind.CROPPED]
        # SIPaKMeD's isolated cells are cut from its cluster images: counting
        # both would count each cell twice.
        counted = cluster or cropped
        count = sum(len(image.cells) for image in counted)
        class_item = QTreeWidgetItem([palette.label(class_name), str(count)])
        class_item.setIcon(0, swatch_icon(palette, class_name))
        class_item.setData(0, CLASS_NAME_ROLE, class_name)
        class_item.setToolTip(0, self._class_tooltip(cluster, cropped))
        class_item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
        class_item.setFlags(class_item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
        font = class_item.font(0)
        font.setBold(True)
        class_item.setFont(0, font)
        class_item.setFont(1, font)
        self.tree.addTopLevelItem(class_item)
        for image in cluster:
            class_item.addChild(self._image_item(image))
        if not cropped:
            return
        parent = class_item
        if cluster:
            cropped_count = sum(len(image.cells) for image in cropped)
            parent = QTreeWidgetItem(["Isolated cells", str(cropped_count)])
            parent.setToolTip(0, "Cells cut out of the cluster images (CROPPED)")
            parent.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            parent.setFlags(parent.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            class_item.addChild(parent)
        for image in cropped:
            parent.addChild(self._image_item(image))

    @staticmethod
    def _class_tooltip(cluster: list[ImageRecord], cropped: list[ImageRecord]) -> str:
        parts = []
        if cluster:
            parts.append(f"{_images(len(cluster))} of cell clusters")
        if cropped:
            parts.append(f"{_images(len(cropped))} of isolated cells")
        return ", ".join(parts)

    def _image_item(self, image: ImageRecord) -> QTreeWidgetItem:
        item = QTreeWidgetItem([image.stem, str(len(image.cells))])
        item.setData(0, IMAGE_KEY_ROLE, image.key)
        item.setToolTip(0, str(image.path))
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
        self._items[image.key] = item
        return item

    def refresh_marks(self, keys=None) -> None:
        """Mark images with unsaved edits, and images whose cells are all reviewed."""
        dataset = self._dataset
        if dataset is None:
            return
        for key in self._items if keys is None else keys:
            item = self._items.get(key)
            if item is None:
                continue
            image = dataset.image(key)
            if dataset.is_modified(image):
                mark, colour, tip = UNSAVED_MARK, UNSAVED_COLOUR, "unsaved edits"
            elif image.cells and all(
                cell.review_state is not ReviewState.UNREVIEWED for cell in image.cells
            ):
                mark, colour, tip = (
                    REVIEWED_MARK,
                    REVIEWED_COLOUR,
                    "every cell reviewed",
                )
            else:
                mark, colour, tip = "", QColor(), ""
            item.setText(2, mark)
            item.setForeground(2, QBrush(colour) if mark else QBrush())
            item.setToolTip(2, tip)

    def mark(self, key: str) -> str:
        """The mark shown beside image `key` (empty, unsaved or reviewed)."""
        item = self._items.get(key)
        return "" if item is None else item.text(2)

    def image_keys(self) -> list[str]:
        """Every listed image, in the tree's order."""
        return list(self._items)

    def current_key(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, IMAGE_KEY_ROLE)

    def selected_keys(self) -> list[str]:
        """The selected images, in the tree's order; the shown image when no
        other is selected."""
        selected = {
            key
            for item in self.tree.selectedItems()
            if (key := item.data(0, IMAGE_KEY_ROLE)) is not None
        }
        if not selected:
            current = self.current_key()
            return [] if current is None else [current]
        return [key for key in self._items if key in selected]

    def select_images(self, keys) -> None:
        """Select the images `keys` (the first becomes the shown one)."""
        keys = [key for key in keys if key in self._items]
        if keys:
            self.select_image(keys[0])
        self.tree.clearSelection()
        for key in keys:
            self._items[key].setSelected(True)

    def select_image(self, key: str) -> bool:
        """Make `key` the current image (which emits `image_selected`)."""
        item = self._items.get(key)
        if item is None:
            return False
        if item.isSelected() and len(self.tree.selectedItems()) > 1:
            # Showing one of the selected images keeps the others selected.
            self.tree.setCurrentItem(
                item, 0, QItemSelectionModel.SelectionFlag.NoUpdate
            )
        else:
            self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)
        return True

    def _on_current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        key = None if current is None else current.data(0, IMAGE_KEY_ROLE)
        if key:
            self.image_selected.emit(key)
