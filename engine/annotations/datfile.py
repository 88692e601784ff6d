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
_SEPARATORS = re.compile(r"[,;\s]+")
_FIRST_SEPARATOR = re.compile(r"^\S+?([\s,;]+)\S")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_VERTEX = rf"[ \t]*{_NUMBER}(?:[ \t]*[,;][ \t]*|[ \t]+){_NUMBER}[ \t]*"
# A whole file of `x,y` lines, checked in one pass before the fast parse.
_WELL_FORMED = re.compile(rf"(?:{_VERTEX}\r?\n|[ \t]*\r?\n)*(?:{_VERTEX})?\s*")


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
    final_newline = text.endswith(("\n", "\r"))
    stripped_end = text.rstrip("\r\n \t")
    trailing_blank = text[len(stripped_end) :].count("\n") >= 2

    tokens = text.replace(",", " ").replace(";", " ").split()
    if _WELL_FORMED.fullmatch(text) is not None:
        vertices = np.array(tokens, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(vertices).all():
            vertices = _parse_line_by_line(text.splitlines(), path)
    else:
        vertices = _parse_line_by_line(text.splitlines(), path)
    if len(vertices) == 0:
        raise DatFormatError("the file is empty: it holds no vertices", path)
    if len(vertices) < 3:
        raise DatFormatError(
            f"an outline needs at least 3 vertices, this one has {len(vertices)}",
            path,
        )

    first_line = text.lstrip()
    first_line = (
        first_line[: first_line.find("\n")] if "\n" in first_line else first_line
    )
    between = _FIRST_SEPARATOR.search(first_line.strip())
    separator = between.group(1) if between else ","
    decimals_seen = _decimals_used(text, len(tokens))
    if decimals_seen == {0}:
        decimals = None
    elif len(decimals_seen) == 1 and -1 not in decimals_seen:
        decimals = decimals_seen.pop()
    else:
        decimals = -1
    style = DatStyle(
        decimals=decimals,
        separator=separator,
        newline=newline,
        final_newline=final_newline,
        trailing_blank_line=trailing_blank,
    )
    return DatPolygon(vertices, style)


def _parse_line_by_line(lines: list[str], path) -> np.ndarray:
    """Parse slowly to find and name the first bad line."""
    vertices = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        fields = [field for field in _SEPARATORS.split(line) if field]
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
        vertices.append((x, y))
    return np.array(vertices, dtype=np.float64).reshape(-1, 2)


def _decimals_used(text: str, tokens: int) -> set[int]:
    """The decimal places seen; -1 stands for exponent notation."""
    if "e" in text or "E" in text:
        return {-1}
    decimals = {len(match) for match in _DECIMALS.findall(text)}
    if text.count(".") < tokens:
        decimals.add(0)
    return decimals


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
