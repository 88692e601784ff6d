"""Fine-tuning each small model from the dialog, watching its progress and plots,
then making it active and running inference into the shown image's layers."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from cervix_gui.jobs.job_queue import DONE
from engine.models import load_checkpoint, read_card

SMALL = [
    ("classifier", "tiny-cnn", 64, 8),
    ("unet", "unet-resnet18", 64, 4),
    ("maskrcnn", "maskrcnn-resnet18-fpn", 128, 2),
]


def accept(dialog) -> None:
    dialog.findChild(QDialogButtonBox).button(
        QDialogButtonBox.StandardButton.Ok
    ).click()


@pytest.mark.parametrize(("task", "arch", "size", "batch"), SMALL)
def test_a_short_fine_tuning_run_plots_and_lists_its_checkpoint(
    window, docks, opened, qtbot, task, arch, size, batch, fill_dialog, run_timeout
):
    dialog = docks.models.open_fine_tune_dialog()
    fill_dialog(dialog, task, arch, size, batch)
    dialog.name.setText(f"mine-{task}")
    accept(dialog)

    record = docks.queue.records[-1]
    qtbot.waitUntil(lambda: not record.active, timeout=run_timeout)
    assert record.state == DONE, record.message
    view = docks.jobs.view(record)
    assert view.progress.value() == 1000
    assert len(view.train_curve.getData()[0]) == 1  # one epoch plotted
    assert len(view.val_curve.getData()[0]) == 1
    assert "memory" in view.memory.text()
    assert "Done: 1 epochs" in view.state.text()

    out = opened / ".cervix" / "models" / f"mine-{task}"
    listed = [
        docks.models.tree.topLevelItem(i).text(0)
        for i in range(docks.models.tree.topLevelItemCount())
    ]
    assert f"mine-{task}" in listed
    assert docks.models.selected() == out
    assert f"{task} · {arch}" in docks.models.card.text()
    assert read_card(out).task == task


def test_a_fine_tuned_classifier_made_active_fills_the_shown_image(
    window, docks, opened, qtbot, fill_dialog, run_timeout
):
    dialog = docks.models.open_fine_tune_dialog()
    fill_dialog(dialog, "classifier", "tiny-cnn", 64, 8)
    accept(dialog)
    record = docks.queue.records[-1]
    qtbot.waitUntil(lambda: not record.active, timeout=run_timeout)
    assert record.state == DONE, record.message
    load_checkpoint(record.result.checkpoint)

    docks.models.activate_selected()
    assert docks.models.active("classifier") == record.job.out
    shown = window.current_record()
    reloads = []
    window.predictions.shown.connect(reloads.append)
    inference = docks.models.run_inference("Current image")
    qtbot.waitUntil(lambda: not inference.active, timeout=run_timeout)
    assert inference.state == DONE, inference.message
    assert [job.key for job in inference.job.jobs] == [shown.key]
    qtbot.waitUntil(lambda: bool(reloads), timeout=run_timeout)
    assert reloads[-1].run == inference.result.run
    assert inference.result.images == 1
    assert docks.jobs.view(inference).progress.value() == 1000
