"""The list of problems found while reading a dataset: each file, line and reason."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from engine.annotations import Dataset, Problem


class ProblemList(QWidget):
    """A heading with the count and one row per problem; hidden when there are none."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.heading = QLabel()
        self.heading.setObjectName("problemHeading")
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet(
            "#problemHeading { color: #a3320b; font-weight: 600; }"
        )
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.list)
        self.hide()

    def show_problems(self, dataset: Dataset) -> None:
        """List the dataset's problems, with paths relative to the dataset."""
        self.list.clear()
        problems = dataset.problems
        self.setVisible(bool(problems))
        if not problems:
            return
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        self.heading.setText(
            f"\u26a0 {count} {noun}: these files are skipped and left as they are"
        )
        for problem in problems:
            item = QListWidgetItem(self._describe(problem, dataset))
            item.setToolTip(str(problem))
            self.list.addItem(item)

    def count(self) -> int:
        return self.list.count()

    @staticmethod
    def _describe(problem: Problem, dataset: Dataset) -> str:
        try:
            where = str(problem.path.relative_to(dataset.root))
        except ValueError:
            where = str(problem.path)
        if problem.line:
            where += f":{problem.line}"
        return f"{where}: {problem.message}"
