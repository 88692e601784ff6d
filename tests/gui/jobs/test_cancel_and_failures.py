"""Cancelling a run midway keeps a loadable checkpoint; every failure of a run
is a message in the jobs dock and the status bar, and the window keeps
answering, editing and closing while a run goes on."""

from __future__ import annotations

import torch
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialogButtonBox

from cervix_gui.jobs.job_queue import CANCELLED, FAILED
from cervix_gui.jobs.job_worker import TrainingJob
from engine.models import load_checkpoint
from engine.training import EpochEnded, StepEnded, TrainingConfig


def classifier_job(root, name: str, epochs: int, **settings) -> TrainingJob:
    config = TrainingConfig(
        task="classifier",
        arch="tiny-cnn",
        image_size=64,
        batch_size=4,
        epochs=epochs,
        lr=1e-3,
        pretrained="none",
        device="cpu",
        log_every=1,
        test_fraction=0.0,  # two images per class: one trains, one validates
    )
    for key, value in settings.items():
        setattr(config, key, value)
    return TrainingJob(config, root, root / ".cervix" / "models" / name)


def ended(docks, qtbot, record, timeout) -> str:
    """Wait for `record` to end; what its view in the jobs dock says."""
    qtbot.waitUntil(lambda: not record.active, timeout=timeout)
    return docks.jobs.view(record).state.text()


def still_works(window, qtbot) -> None:
    """The window shows another image when asked, after the failure."""
    keys = window.browser.image_keys()
    window.show_image(keys[-1])
    qtbot.waitUntil(lambda: window.current_record().key == keys[-1])


def test_cancel_midway_keeps_the_last_good_checkpoint(
    docks, opened, qtbot, run_timeout
):
    record = docks.queue.submit(classifier_job(opened, "cancelled", epochs=50))
    qtbot.waitUntil(
        lambda: (
            any(isinstance(e, EpochEnded) for e in record.events)
            and any(isinstance(e, StepEnded) and e.epoch >= 2 for e in record.events)
        ),
        timeout=run_timeout,
    )
    docks.jobs.view(record).cancel_button.click()
    text = ended(docks, qtbot, record, run_timeout)

    assert record.state == CANCELLED
    assert 1 <= record.result.epochs_done < 50
    assert "Cancelled after" in text
    assert not docks.jobs.view(record).cancel_button.isEnabled()
    model, card = load_checkpoint(record.result.checkpoint)
    assert card.task == "classifier"
    assert 1 <= card.epoch <= record.result.epochs_done


def test_a_worker_that_raises_anything_is_a_message_and_the_window_still_works(
    window, docks, opened, qtbot, monkeypatch, run_timeout
):
    def broken(*args, **kwargs):
        raise KeyError("no such thing")

    monkeypatch.setattr("engine.training.loop.train", broken)
    record = docks.queue.submit(classifier_job(opened, "broken", epochs=1))
    text = ended(docks, qtbot, record, run_timeout)

    assert record.state == FAILED
    assert "unexpected error stopped the job (KeyError" in text
    assert "failed" in window.status.currentMessage()
    still_works(window, qtbot)


def test_cuda_out_of_memory_suggests_a_smaller_batch(
    window, docks, opened, qtbot, monkeypatch, fill_dialog, run_timeout
):
    def out_of_memory(self, epoch, step, batch):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr("engine.training.loop._Run._step", out_of_memory)
    dialog = docks.models.open_fine_tune_dialog()
    fill_dialog(dialog, "classifier", "tiny-cnn", 64, 6)
    dialog.findChild(QDialogButtonBox).button(
        QDialogButtonBox.StandardButton.Ok
    ).click()
    record = docks.queue.records[-1]
    text = ended(docks, qtbot, record, run_timeout)

    assert record.state == FAILED
    assert "ran out of memory" in text
    assert "smaller batch size (now 6)" in text
    still_works(window, qtbot)


def test_a_nan_loss_is_named(docks, opened, qtbot, monkeypatch, run_timeout):
    from engine.training import setup

    prepare = setup.prepare_task

    def with_nan_loss(*args, **kwargs):
        task, split = prepare(*args, **kwargs)
        loss = task.loss
        task.loss = lambda model, batch: loss(model, batch) * float("nan")
        return task, split

    monkeypatch.setattr(setup, "prepare_task", with_nan_loss)
    record = docks.queue.submit(classifier_job(opened, "nan", epochs=1))
    text = ended(docks, qtbot, record, run_timeout)

    assert record.state == FAILED
    assert "NaN or infinite" in text
    assert "lower the learning rate" in text


def test_a_class_without_annotations_is_named(docks, opened, qtbot, run_timeout):
    folder = opened / "im_Koilocytotic" / "im_Koilocytotic"
    for outline in folder.rglob("*.dat"):
        outline.unlink()
    record = docks.queue.submit(classifier_job(opened, "empty", epochs=1))
    text = ended(docks, qtbot, record, run_timeout)

    assert record.state == FAILED
    assert "'koilocytotic' has no cells" in text


def test_a_checkpoint_of_another_architecture_is_refused(
    docks, opened, qtbot, trained, run_timeout
):
    job = classifier_job(opened, "mismatch", epochs=1)
    job.config.task, job.config.arch = "unet", "unet-resnet18"
    job.config.pretrained = str(trained["classifier"])
    record = docks.queue.submit(job)
    text = ended(docks, qtbot, record, run_timeout)

    assert record.state == FAILED
    assert str(trained["classifier"]) in text
    assert "fit this architecture" in text


def test_a_missing_starting_weights_file_is_named(
    docks, opened, qtbot, tmp_path, run_timeout
):
    job = classifier_job(opened, "nostart", epochs=1)
    job.config.pretrained = str(tmp_path / "gone.safetensors")
    record = docks.queue.submit(job)
    text = ended(docks, qtbot, record, run_timeout)
    assert record.state == FAILED
    assert "gone.safetensors" in text


def test_editing_while_a_run_goes_on(window, docks, opened, qtbot, run_timeout):
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    record = docks.queue.submit(classifier_job(opened, "busy", epochs=40))
    qtbot.waitUntil(lambda: bool(record.events), timeout=run_timeout)

    editing = window.editing
    editing.select_all()
    before = window.current_record().cells[0].class_name
    other = next(c.name for c in window.dataset.scheme.classes if c.name != before)
    editing.set_class(other)
    assert window.current_record().cells[0].class_name == other
    assert record.active  # the edit happened while the run was going
    assert editing.save()
    qtbot.waitUntil(lambda: len(record.events) >= 5, timeout=run_timeout)
    docks.queue.cancel(record)
    qtbot.waitUntil(lambda: not record.active, timeout=run_timeout)
    timer.stop()
    assert record.state == CANCELLED, record.message
    assert len(ticks) >= 5  # the GUI thread kept serving its timer


def test_closing_the_window_stops_the_runs_and_waits_for_them(
    window, docks, opened, qtbot, run_timeout
):
    first = docks.queue.submit(classifier_job(opened, "closing", epochs=40))
    second = docks.queue.submit(classifier_job(opened, "waiting", epochs=40))
    assert second.state == "queued"  # one job at a time on the CPU
    qtbot.waitUntil(
        lambda: any(isinstance(e, EpochEnded) for e in first.events),
        timeout=run_timeout,
    )

    window.close()

    assert not first.worker.isRunning()  # waited for, not destroyed running
    assert second.worker is None  # never started
    assert load_checkpoint(first.job.out)[1].task == "classifier"
