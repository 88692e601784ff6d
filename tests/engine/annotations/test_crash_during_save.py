"""A process killed in the middle of a save leaves each file old or new, never a mix."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from PIL import Image

from engine.annotations import Dataset
from engine.annotations.datfile import DatStyle, format_dat

STYLE = DatStyle(decimals=3)

CELLS = 150


def make_dataset(root: Path) -> None:
    folder = root / "im_Metaplastic" / "im_Metaplastic"
    folder.mkdir(parents=True)
    Image.new("RGB", (4000, 100)).save(folder / "001.bmp")
    for index in range(1, CELLS + 1):
        x = 20.0 * index
        # Long outlines so each write takes a measurable moment.
        angles = np.linspace(0, 2 * np.pi, 400, endpoint=False)
        cell = np.column_stack([x + 8 * np.cos(angles), 50 + 8 * np.sin(angles)])
        (folder / f"001_cyt{index:02d}.dat").write_bytes(format_dat(cell, STYLE))


SAVER = textwrap.dedent(
    """
    import sys
    from engine.annotations import Dataset

    dataset = Dataset.open(sys.argv[1])
    image = dataset.images[0]
    for cell in image.cells:
        cell.cytoplasm = cell.cytoplasm + 0.5
    print("ready", flush=True)
    dataset.save(image)
    print("saved", flush=True)
    """
)


def test_killed_save_leaves_every_file_whole(tmp_path):
    root = tmp_path / "data"
    make_dataset(root)
    folder = root / "im_Metaplastic" / "im_Metaplastic"
    old = {p.name: p.read_bytes() for p in folder.glob("*.dat")}
    image = Dataset.open(root).images[0]
    new = {
        name: format_dat(image.cell(int(name[7:-4])).cytoplasm + 0.5, STYLE)
        for name in old
    }

    outcomes = set()
    for attempt in range(3):
        for path in folder.glob("*.dat"):
            path.write_bytes(old[path.name])
        saver = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(root)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert saver.stdout.readline().strip() == "ready"
        # Kill as soon as the first rewritten file shows: the save is under way.
        deadline = time.monotonic() + 60
        while saver.poll() is None and time.monotonic() < deadline:
            if any((folder / name).read_bytes() == new[name] for name in old):
                break
            time.sleep(0.001 * attempt)
        saver.send_signal(signal.SIGKILL)
        saver.wait()

        states = []
        for name in sorted(old):
            content = (folder / name).read_bytes()
            assert content in (old[name], new[name]), f"{name} is a mix"
            states.append(content == new[name])
        outcomes.add((any(states), all(states)))
        # A changed file is backed up before it is replaced.
        backups = list((root / ".cervix" / "backups").rglob("*.dat"))
        for name, is_new in zip(sorted(old), states, strict=True):
            if is_new:
                assert any(b.name == name for b in backups)
        reopened = Dataset.open(root)
        assert reopened.problems == []
        assert reopened.cell_count() == CELLS

    # At least one kill landed in the middle: some files new, some old.
    assert (True, False) in outcomes or len(outcomes) > 1
