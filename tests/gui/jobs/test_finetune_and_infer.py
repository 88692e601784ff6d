"""Fine-tuning each small model from the real dialog, watching its progress and
plots, then making it active and running inference into the shown image's
layers; a second run from the first is compared with it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QTreeWidgetItemIterator

from cervix_gui.jobs.job_queue import DONE
from engine.models import load_checkpoint, read_card
from engine.training import EpochEnded, StepEnded, TrainingStarted

SMALL = [
    ("classifier", "tiny-cnn", 64, 8),
    ("unet", "unet-resnet18", 64, 4),
    ("maskrcnn", "maskrcnn-resnet18-fpn", 128, 2),
]


def accept(dialog) -> None:
    dialog.findChild(QDialogButtonBox).button(
        QDialogButtonBox.StandardButton.Ok
    ).click()


def listed_names(models) -> list[str]:
    return [
        models.tree.topLevelItem(i).text(0)
        for i in range(models.tree.topLevelItemCount())
    ]


@pytest.mark.parametrize(("task", "arch", "size", "batch"), SMALL)
def test_a_short_fine_tuning_run_plots_and_lists_its_checkpoint(
    window, docks, opened, qtbot, task, arch, size, batch, fill_dialog, run_timeout
):
    smallest = window.minimumSizeHint().height()
    signalled = []
    docks.queue.event.connect(lambda _record, event: signalled.append(event))
    docks.models.finetune_button.click()
    dialog = docks.models.dialog
    assert dialog.isVisible()
    fill_dialog(dialog, task, arch, size, batch)
    dialog.name.setText(f"mine-{task}")
    accept(dialog)

    record = docks.queue.records[-1]
    assert docks.jobs_dock.isVisible()  # the jobs tab comes forward
    qtbot.waitUntil(lambda: not window.busy(), timeout=run_timeout)
    assert record.state == DONE, record.message
    kinds = [type(event) for event in signalled]
    assert kinds[0] is TrainingStarted
    assert StepEnded in kinds and EpochEnded in kinds
    view = docks.jobs.view(record)
    assert view.progress.value() == 1000
    assert len(view.train_curve.getData()[0]) == 1  # one epoch plotted
    assert len(view.val_curve.getData()[0]) == 1
    assert len(view.metric_curve.getData()[0]) == 1
    assert view.memory.text().startswith("cpu: process memory")
    assert "Done: 1 epochs" in view.state.text()
    assert view.result.text().startswith("Figures: ")

    out = opened / ".cervix" / "models" / f"mine-{task}"
    assert f"mine-{task}" in listed_names(docks.models)
    assert docks.models.selected() == out
    assert f"{task} · {arch}" in docks.models.card.text()
    assert read_card(out).task == task
    # A job's plots scroll in their dock: the window can be as short as before.
    assert window.minimumSizeHint().height() <= smallest


def test_a_fine_tuned_classifier_made_active_fills_the_shown_image(
    window, docks, opened, qtbot, fill_dialog, run_timeout
):
    dialog = docks.models.open_fine_tune_dialog()
    fill_dialog(dialog, "classifier", "tiny-cnn", 64, 8)
    dialog.name.setText("first")
    accept(dialog)
    record = docks.queue.records[-1]
    qtbot.waitUntil(lambda: not window.busy(), timeout=run_timeout)
    assert record.state == DONE, record.message
    load_checkpoint(record.result.checkpoint)

    docks.models.activate_button.click()
    qtbot.waitUntil(lambda: not window.busy(), timeout=run_timeout)
    assert docks.models.active("classifier") == record.job.out
    assert docks.models.tree.currentItem().text(2) == "\u2713"
    shown = window.current_record()
    reloads = []
    window.predictions.shown.connect(reloads.append)
    docks.models.scope.setCurrentText("Current image")
    docks.models.run_button.click()
    inference = docks.queue.records[-1]
    qtbot.waitUntil(lambda: not inference.active, timeout=run_timeout)
    assert inference.state == DONE, inference.message
    assert [job.key for job in inference.job.jobs] == [shown.key]
    qtbot.waitUntil(lambda: bool(reloads), timeout=run_timeout)
    assert reloads[-1].run == inference.result.run
    assert len(reloads[-1].predictions.cells) == len(shown.cells)
    assert inference.result.images == 1
    assert docks.jobs.view(inference).progress.value() == 1000

    # Fine-tuning again from the active model: both are scored on the same images.
    dialog = docks.models.open_fine_tune_dialog()
    assert dialog.start.currentText() == str(record.job.out)
    assert dialog.task.currentData() == "classifier"
    dialog.epochs.setValue(1)
    dialog.test_share.setValue(0)
    dialog.name.setText("second")
    accept(dialog)
    second = docks.queue.records[-1]
    qtbot.waitUntil(lambda: not window.busy(), timeout=run_timeout)
    assert second.state == DONE, second.message
    figures = docks.jobs.view(second).result.text()
    assert "(start " in figures
    assert "both models scored on the same validation images" in figures
    assert set(second.job.starting_metrics) == set(second.job.final_metrics)


def test_the_preferred_device_is_the_dialogs_and_inferences_default(
    window, docks, opened, settings
):
    settings.setValue("models/device", "cpu")
    dialog = docks.models.open_fine_tune_dialog()
    assert dialog.device.currentData() == "cpu"
    assert dialog.config().device == "cpu"
    dialog.reject()

    settings.setValue("models/device", "cuda:7")  # a GPU this machine lacks
    dialog = docks.models.open_fine_tune_dialog()
    assert dialog.device.currentData() == "cpu"
    dialog.reject()


def test_selected_images_and_the_whole_dataset_are_queued_one_after_another(
    window, docks, opened, qtbot, trained, run_timeout
):
    docks.models.make_active(trained["classifier"])
    keys = window.browser.image_keys()
    tree = window.browser.tree
    tree.clearSelection()
    items = QTreeWidgetItemIterator(tree)
    chosen = set()
    while items.value() is not None and len(chosen) < 2:
        key = items.value().data(0, Qt.ItemDataRole.UserRole)
        if key in keys:
            items.value().setSelected(True)
            chosen.add(key)
        items += 1

    selected = docks.models.run_inference("Selected images")
    everything = docks.models.run_inference("Whole dataset")
    # One job per device: the second waits for the first.
    assert selected.state == "running" and everything.state == "queued"
    assert {job.key for job in selected.job.jobs} == chosen
    qtbot.waitUntil(lambda: not everything.active, timeout=run_timeout)
    assert everything.state == DONE, everything.message
    assert everything.result.images == len(everything.job.jobs) >= len(chosen)


def test_a_slide_is_classified_batch_by_batch_into_its_layers(
    window, docks, qtbot, open_in, trained, small_slide_here, run_timeout
):
    assert open_in(small_slide_here)
    assert len(window.current_record().cells) >= 8
    docks.models.make_active(trained["classifier"])
    tiles = []  # engine TilesProgress events
    docks.queue.event.connect(
        lambda _record, event: (
            tiles.append(event) if type(event).__name__ == "TilesProgress" else None
        )
    )
    drawn = []  # (cells drawn, the job's state then)
    window.predictions.found_drawn.connect(
        lambda count: drawn.append((count, record.state))
    )
    record = docks.models.run_inference("Current image")
    qtbot.waitUntil(lambda: not record.active, timeout=run_timeout)
    assert record.state == DONE, record.message
    assert tiles and tiles[-1].total == len(window.current_record().cells)
    # The slide's cells reached its layers while the job was still running.
    assert drawn and drawn[0][0] > 0 and drawn[0][1] == "running"
    assert docks.jobs.view(record).progress.value() == 1000
    qtbot.waitUntil(lambda: not window.busy(), timeout=run_timeout)
    stored = window.predictions.stored
    assert stored.run == record.result.run
    assert len(stored.predictions.cells) == len(window.current_record().cells)
