"""Reading and writing SIPaKMeD `.dat` polygon files, keeping each file's number style.

A `.dat` file holds one vertex a line, `x,y`, in the pixel coordinates of its own
image; the polygon is closed implicitly. Published copies differ in small ways
(integers or decimals, spaces after the comma, CRLF endings, a trailing blank
line), so the parser is tolerant and remembers the style it saw, and the writer
uses that style again so a rewritten file looks like its neighbours.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.annotations.errors import DatFormatError

_DECIMALS = re.compile(r"\.(\d+)")


@dataclass(frozen=True)
class DatStyle:
    """How a `.dat` file writes its numbers and lines."""

    decimals: int | None = None  # None: integers; -1: shortest exact form
    separator: str = ","
    newline: str = "\n"
    final_newline: bool = True
    trailing_blank_line: bool = False


DEFAULT_STYLE = DatStyle(decimals=None)


@dataclass(frozen=True)
class DatPolygon:
    """The vertices of one `.dat` file and the style it was written in."""

    vertices: np.ndarray  # shape (n, 2), float64, pixel coordinates
    style: DatStyle


def parse_dat(data: bytes, path: Path | str | None = None) -> DatPolygon:
    """Parse the bytes of a `.dat` file; raise DatFormatError naming the line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatFormatError(
            f"not a text file (byte {error.start} cannot be decoded); "
            "restore the file from a backup or delete this cell's files",
            path,
        ) from None
    if "\x00" in text:
        raise DatFormatError("not a text file (it contains NUL bytes)", path)

    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline) if newline == "\r\n" else text.splitlines()
    final_newline = text.endswith(("\n", "\r"))
    stripped_end = text.rstrip("\r\n \t")
    trailing_blank = text[len(stripped_end) :].count("\n") >= 2

    xs: list[float] = []
    ys: list[float] = []
    decimals_seen: set[int] = set()
    separator = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        fields = [field.strip() for field in re.split(r"[,\s;]+", line) if field]
        if len(fields) != 2:
            raise DatFormatError(
                f"expected two numbers `x,y`, found {line[:60]!r}", path, number
            )
        try:
            x, y = float(fields[0]), float(fields[1])
        except ValueError:
            raise DatFormatError(
                f"expected two numbers `x,y`, found {line[:60]!r}", path, number
            ) from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise DatFormatError(
                f"vertex {line[:60]!r} is not a finite number", path, number
            )
        if separator is None:
            between = re.search(r"^\S+?([\s,;]+)\S", line)
            separator = between.group(1) if between else ","
        for field in fields:
            match = _DECIMALS.search(field)
            decimals_seen.add(len(match.group(1)) if match else 0)
        xs.append(x)
        ys.append(y)

    if not xs:
        raise DatFormatError("the file is empty: it holds no vertices", path)
    if len(xs) < 3:
        raise DatFormatError(
            f"an outline needs at least 3 vertices, this one has {len(xs)}", path
        )

    if decimals_seen == {0}:
        decimals = None
    elif len(decimals_seen) == 1:
        decimals = decimals_seen.pop()
    else:
        decimals = -1
    style = DatStyle(
        decimals=decimals,
        separator=separator or ",",
        newline=newline,
        final_newline=final_newline,
        trailing_blank_line=trailing_blank,
    )
    return DatPolygon(np.column_stack([xs, ys]).astype(np.float64), style)


def read_dat(path: Path) -> DatPolygon:
    """Read and parse one `.dat` file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DatFormatError(f"cannot be read: {error.strerror}", path) from None
    return parse_dat(data, path)


def _format_number(value: float, decimals: int | None) -> str:
    if decimals is None:
        return str(int(round(value)))
    if decimals == -1:
        text = repr(float(value))
        return text[:-2] if text.endswith(".0") else text
    return f"{value:.{decimals}f}"


def format_dat(vertices: np.ndarray, style: DatStyle = DEFAULT_STYLE) -> bytes:
    """The bytes of a `.dat` file for these vertices, in the given style."""
    lines = [
        f"{_format_number(x, style.decimals)}{style.separator}"
        f"{_format_number(y, style.decimals)}"
        for x, y in np.asarray(vertices, dtype=np.float64)
    ]
    text = style.newline.join(lines)
    if style.final_newline:
        text += style.newline
    if style.trailing_blank_line:
        text += style.newline
    return text.encode("utf-8")


def representable(vertices: np.ndarray, style: DatStyle) -> np.ndarray:
    """The vertices as they will read back after being written in this style."""
    return parse_dat(format_dat(vertices, style)).vertices
