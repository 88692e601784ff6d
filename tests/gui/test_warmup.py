"""The model code is imported off the GUI thread soon after the window opens,
so the first click on Predict does not freeze the window."""

from __future__ import annotations

import logging
import sys
import threading

from cervix_gui.warmup import schedule_warm_up, warm_up

PROBE = """
import threading
IMPORTED_IN = threading.current_thread().name
"""


def test_modules_are_imported_in_a_thread_of_their_own(tmp_path, monkeypatch):
    (tmp_path / "warm_probe.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "warm_probe", raising=False)

    warm_up(["warm_probe"]).join(timeout=30)

    assert sys.modules["warm_probe"].IMPORTED_IN == "import-warm-up"
    assert threading.current_thread().name != "import-warm-up"


def test_a_module_that_fails_to_import_is_logged_not_raised(
    tmp_path, monkeypatch, caplog
):
    (tmp_path / "broken_probe.py").write_text("raise ImportError('no such library')")
    monkeypatch.syspath_prepend(str(tmp_path))

    with caplog.at_level(logging.WARNING, logger="cervix_gui.warmup"):
        warm_up(["broken_probe"]).join(timeout=30)

    assert "broken_probe" in caplog.text
    assert "no such library" in caplog.text
    assert "broken_probe" not in sys.modules


def test_the_warm_up_waits_for_the_event_loop(qtbot, tmp_path, monkeypatch):
    (tmp_path / "later_probe.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "later_probe", raising=False)
    monkeypatch.setattr("cervix_gui.warmup.MODULES", ("later_probe",))

    schedule_warm_up(delay_ms=50)
    assert "later_probe" not in sys.modules

    qtbot.waitUntil(lambda: "later_probe" in sys.modules, timeout=30000)
    assert sys.modules["later_probe"].IMPORTED_IN == "import-warm-up"
