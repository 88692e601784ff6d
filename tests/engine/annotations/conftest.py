"""A small SIPaKMeD-layout dataset written by hand, with every file style we accept."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image


def write_image(path: Path, size=(120, 90)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 180, 190)).save(path)


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    """Two classes, inner folders named both ways, a CROPPED cell, mixed styles."""
    root = tmp_path / "sipakmed"
    parabasal = root / "im_Parabasal" / "im_Parabasal"
    write_image(parabasal / "001.bmp")
    (parabasal / "001_cyt01.dat").write_bytes(b"10,10\n60,10\n60,60\n10,60\n")
    (parabasal / "001_nuc01.dat").write_bytes(b"20,20\n30,20\n30,30\n20,30\n")
    (parabasal / "001_cyt02.dat").write_bytes(
        b"70.5, 20.25\r\n110.5, 20.25\r\n110.5, 70.75\r\n70.5, 70.75\r\n"
    )
    (parabasal / "001_nuc02.dat").write_bytes(
        b"80.5, 30.25\r\n90.5, 30.25\r\n90.5, 40.75\r\n"
    )
    cropped = parabasal / "CROPPED"
    write_image(cropped / "001_01.bmp", (60, 60))
    (cropped / "001_01_cyt.dat").write_bytes(b"5,5\n55,5\n55,55\n5,55\n\n")
    (cropped / "001_01_nuc.dat").write_bytes(b"20,20\n30,20\n30,30\n")

    koilocytotic = root / "im_Koilocytotic" / "Koilocytotic"
    write_image(koilocytotic / "002.bmp")
    (koilocytotic / "002_cyt1.dat").write_bytes(b"5.0,5.0\n50.0,5.0\n50.0,50.0\n")
    (koilocytotic / "002_nuc1.dat").write_bytes(b"30.0,10.0\n45.0,10.0\n45.0,20.0\n")
    return root
