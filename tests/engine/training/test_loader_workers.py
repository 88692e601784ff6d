"""Loader worker processes: forked on the main thread only, where a run on a CPU
has a core to spare; a window's job (another thread) loads in its own thread."""

from __future__ import annotations

import threading

import torch

from engine.training import setup


def workers_on_a_thread(device: str) -> int:
    found = []
    thread = threading.Thread(
        target=lambda: found.append(setup.default_workers(torch.device(device), 1))
    )
    thread.start()
    thread.join()
    return found[0]


def test_a_cpu_run_forks_a_loader_worker_only_from_the_main_thread(monkeypatch):
    monkeypatch.setattr(setup.os, "cpu_count", lambda: 2)
    assert setup.default_workers(torch.device("cpu"), 1) == 1
    assert workers_on_a_thread("cpu") == 0
    # Two ranks on two cores leave no core to spare.
    assert setup.default_workers(torch.device("cpu"), 2) == 0


def test_a_gpu_run_keeps_its_loader_workers_on_any_thread(monkeypatch):
    monkeypatch.setattr(setup.os, "cpu_count", lambda: 8)
    assert setup.default_workers(torch.device("cuda"), 1) == 4
    assert workers_on_a_thread("cuda") == 4
