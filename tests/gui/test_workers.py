"""Background jobs report on the GUI thread, and a job that is still running
stays alive even when nothing else holds it any more (a window closed while it
measured): the garbage collector must not delete it under its worker."""

from __future__ import annotations

import gc
import threading
import weakref

from cervix_gui import workers


def test_a_running_job_that_nobody_holds_lives_until_it_reports(qtbot):
    gate = threading.Event()
    reported = []
    before = workers.running_jobs()

    job = workers.start_job(
        lambda: gate.wait(30) and "measured",
        on_finished=reported.append,
        on_failed=reported.append,
    )
    alive = weakref.ref(job)
    del job
    gc.collect()
    assert alive() is not None
    assert workers.running_jobs() == before + 1

    gate.set()
    qtbot.waitUntil(lambda: reported == ["measured"])
    assert workers.running_jobs() == before


def test_a_failing_job_reports_its_message_and_is_let_go(qtbot):
    reported = []
    before = workers.running_jobs()

    def broken():
        raise ValueError("no such cell")

    workers.start_job(broken, on_finished=reported.append, on_failed=reported.append)
    qtbot.waitUntil(lambda: len(reported) == 1)
    assert "ValueError: no such cell" in reported[0]
    assert workers.running_jobs() == before
