"""The window's responsiveness while it fine-tunes a model, and the training
throughput from the window beside the same run from `cervix train`.

Draws a synthetic dataset, opens it in the real main window (offscreen), and
queues a CPU training job through the window's job queue, as the fine-tuning
dialog does. A QTimer due every 10 ms measures how late the event loop serves
it while the job runs (its lateness is the latency a click or a paint would
see); the same is measured with no job for reference. Throughput is the
training images of an epoch over the epoch's training time (validation not
counted, the first epoch skipped as warm-up), from the engine's epoch events
in the window and from the epoch lines `cervix train` prints when run as a
subprocess with the same settings. Each is run `--rounds` times, in turn
window first and command first, and the faster run of each is shown, so that
a burst of load from elsewhere on the machine does not decide the ratio.
The window collects garbage from its event loop, as the application does
(`--gc python` leaves it to Python, for comparison).
Run: `python benchmarks/bench_gui_jobs.py [--quick] [--epochs N] [--rounds N]
[--gc window|python]`.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PING_MS = 10
EPOCH_LINE = re.compile(
    r"^epoch\s+(\d+)/\d+\s+train loss .*\s([\d.]+) s(?:\s+\* best)?$"
)
SAMPLES_LINE = re.compile(r": (\d+) training and \d+ validation samples")


@dataclass
class Case:
    task: str
    arch: str
    image_size: int
    batch_size: int


CASES = [
    Case("classifier", "tiny-cnn", 64, 32),
    Case("unet", "unet-resnet18", 64, 8),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def pump_until(app, done, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)


class Pinger:
    """A repeating QTimer; how late each tick came, in milliseconds."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.lateness: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(PING_MS)
        self.timer.timeout.connect(self._tick)
        self.last = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            self.lateness.append(max(0.0, (now - self.last) * 1000 - PING_MS))
        self.last = now

    def start(self) -> None:
        self.last = None
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.lateness


def config_for(case: Case, epochs: int):
    from engine.training import TrainingConfig

    return TrainingConfig(
        task=case.task,
        arch=case.arch,
        image_size=case.image_size,
        batch_size=case.batch_size,
        epochs=epochs,
        pretrained="none",
        device="cpu",
        test_fraction=0.0,
    )


def in_window(app, window, root: Path, case: Case, epochs: int, out: Path) -> dict:
    """Train in the window's job queue; event-loop lateness and images/s."""
    from cervix_gui.jobs.job_worker import TrainingJob
    from engine.training import EpochEnded, TrainingStarted

    pinger = Pinger()
    job = TrainingJob(config_for(case, epochs), root, out)
    record = window.jobs.queue.submit(job)
    pump_until(
        app, lambda: any(isinstance(e, TrainingStarted) for e in record.events), 600
    )
    pinger.start()
    pump_until(app, lambda: not record.active, 3600)
    lateness = pinger.stop()
    if record.state != "done":
        raise RuntimeError(f"the window's run ended {record.state}: {record.message}")
    started = next(e for e in record.events if isinstance(e, TrainingStarted))
    seconds = [e.seconds for e in record.events if isinstance(e, EpochEnded)][1:]
    return {
        "lateness": lateness,
        "images_per_s": started.train_images / statistics.mean(seconds),
    }


def from_command(root: Path, case: Case, epochs: int, out: Path) -> float:
    """The same run through `cervix train` in a subprocess; images/s."""
    command = [
        sys.executable,
        "-m",
        "engine.cli",
        "train",
        case.task,
        "--data",
        str(root),
        "--arch",
        case.arch,
        "--epochs",
        str(epochs),
        "--batch-size",
        str(case.batch_size),
        "--image-size",
        str(case.image_size),
        "--device",
        "cpu",
        "--test-fraction",
        "0",
        "--out",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    lines = (done.stdout + done.stderr).splitlines()
    samples = next(
        int(m.group(1)) for line in lines if (m := SAMPLES_LINE.search(line))
    )
    seconds = [
        float(m.group(2)) for line in lines if (m := EPOCH_LINE.match(line.strip()))
    ][1:]
    return samples / statistics.mean(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the classifier only")
    parser.add_argument("--epochs", type=int, default=4, help="first is warm-up")
    parser.add_argument("--images-per-class", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--gc",
        choices=("window", "python"),
        default="window",
        help="garbage collected as the application does it (from the window's "
        "event loop) or by Python wherever it allocates",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from cervix_gui.collector import install_collector
    from cervix_gui.main_window import MainWindow
    from engine.synthetic import make_dataset

    with tempfile.TemporaryDirectory() as folder:
        root = make_dataset(
            Path(folder) / "synthetic",
            images_per_class=args.images_per_class,
            image_size=(256, 192),
        )
        settings = QSettings(str(Path(folder) / "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        window.resize(1200, 800)
        window.show()
        window.open_path(root)
        if args.gc == "window":
            install_collector(app)
        pump_until(app, lambda: window.dataset is not None and not window.busy(), 120)

        pinger = Pinger()
        pinger.start()
        pump_until(app, lambda: False, 3.0)
        idle = pinger.stop()

        import torch

        print(
            f"{sys.platform}, {os.cpu_count()} CPUs, torch {torch.__version__} with "
            f"{torch.get_num_threads()} threads; window: a QThread in this process, "
            f"garbage collected by the {args.gc}; "
            f"cervix train: a subprocess; {args.epochs} epochs, the first not timed; "
            f"best of {args.rounds} rounds"
        )
        header = (
            f"{'case':<28} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
            f"{'window img/s':>12} {'cli img/s':>10} {'ratio':>6}"
        )
        print(header)
        print("-" * len(header))

        def row(name, lateness, window_rate=None, cli_rate=None) -> None:
            figures = " ".join(
                f"{percentile(lateness, share):>7.1f}" for share in (0.5, 0.95, 0.99)
            )
            rates = ""
            if window_rate is not None:
                rates = (
                    f" {window_rate:>12.1f} {cli_rate:>10.1f} "
                    f"{window_rate / cli_rate:>6.0%}"
                )
            print(f"{name:<28} {figures} {max(lateness):>7.1f}{rates}", flush=True)

        row("idle window", idle)
        for case in CASES[:1] if args.quick else CASES:
            name = f"{case.arch} {case.image_size}px b{case.batch_size}"
            lateness, window_rates, cli_rates = [], [], []
            for round_ in range(args.rounds):
                runs = Path(folder) / f"round-{round_}"
                command_first = round_ % 2 == 1
                if command_first:
                    cli_rates.append(
                        from_command(root, case, args.epochs, runs / f"cli-{case.arch}")
                    )
                measured = in_window(
                    app, window, root, case, args.epochs, runs / f"gui-{case.arch}"
                )
                if not command_first:
                    cli_rates.append(
                        from_command(root, case, args.epochs, runs / f"cli-{case.arch}")
                    )
                lateness += measured["lateness"]
                window_rates.append(measured["images_per_s"])
            row(name, lateness, max(window_rates), max(cli_rates))
        window.close()


if __name__ == "__main__":
    main()
