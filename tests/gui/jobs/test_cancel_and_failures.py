"""Cancelling a run midway keeps a loadable checkpoint; a failing worker is a
message, and the window keeps answering and editing while a run goes on."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from cervix_gui.jobs.job_queue import CANCELLED, FAILED
from cervix_gui.jobs.job_worker import TrainingJob
from engine.models import load_checkpoint
from engine.training import EpochEnded, StepEnded, TrainingConfig


def classifier_job(root, name: str, epochs: int) -> TrainingJob:
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
    return TrainingJob(config, root, root / ".cervix" / "models" / name)


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
    qtbot.waitUntil(lambda: not record.active, timeout=run_timeout)

    assert record.state == CANCELLED
    assert record.result.epochs_done < 50
    assert "Cancelled after" in docks.jobs.view(record).state.text()
    model, card = load_checkpoint(record.result.checkpoint)
    assert card.task == "classifier"


def test_a_worker_that_raises_is_a_message_and_the_window_still_works(
    window, docks, opened, qtbot, monkeypatch, run_timeout
):
    def broken(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr("engine.training.loop.train", broken)
    record = docks.queue.submit(classifier_job(opened, "broken", epochs=1))
    qtbot.waitUntil(lambda: not record.active, timeout=run_timeout)

    assert record.state == FAILED
    text = docks.jobs.view(record).state.text()
    assert "smaller batch size (now 4)" in text
    assert "failed" in window.status.currentMessage()
    keys = window.browser.image_keys()
    window.show_image(keys[-1])
    qtbot.waitUntil(lambda: window.current_record().key == keys[-1])


def test_a_missing_starting_weights_file_is_named(
    docks, opened, qtbot, tmp_path, run_timeout
):
    job = classifier_job(opened, "nostart", epochs=1)
    job.config.pretrained = str(tmp_path / "gone.safetensors")
    record = docks.queue.submit(job)
    qtbot.waitUntil(lambda: not record.active, timeout=run_timeout)
    assert record.state == FAILED
    assert "gone.safetensors" in record.message


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
