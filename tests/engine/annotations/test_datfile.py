"""The `.dat` parser: tolerant of every published style, typed errors otherwise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.annotations.datfile import DatStyle, format_dat, parse_dat
from engine.annotations.errors import DatFormatError

STYLED_FILES = [
    b"10,10\n60,10\n60,60\n",
    b"10.5,10.25\n60.5,10.25\n60.5,60.75\n",
    b"10, 10\r\n60, 10\r\n60, 60\r\n",
    b"1.000000,2.000000\n3.000000,4.000000\n5.000000,1.000000\n\n",
    b"10 10\n60 10\n60 60",
    b"12.5,3\n4.25,8\n9,1.125\n",
]


@pytest.mark.parametrize("data", STYLED_FILES)
def test_a_parsed_file_writes_back_byte_for_byte(data):
    polygon = parse_dat(data)
    assert format_dat(polygon.vertices, polygon.style) == data


def test_vertices_are_read_as_floats_in_order():
    polygon = parse_dat(b"1,2\n3.5,4\n5,6.25\n")
    np.testing.assert_array_equal(polygon.vertices, [[1, 2], [3.5, 4], [5, 6.25]])


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"", None, "empty"),
        (b"\n\n", None, "empty"),
        (b"1,2\n3,4\n", None, "at least 3"),
        (b"1,2\nabc,4\n5,6\n", 2, "two numbers"),
        (b"1,2\n3,4,5\n5,6\n", 2, "two numbers"),
        (b"1,2\n3,nan\n5,6\n", 2, "finite"),
        (b"1,2\n3,4\ninf,6\n", 3, "finite"),
        (b"\xff\xfe\x00\x01garbage", None, "not a text file"),
        (b"1,2\x00\n3,4\n5,6\n", None, "not a text file"),
    ],
)
def test_bad_files_raise_a_typed_error_with_the_line(data, line, words):
    with pytest.raises(DatFormatError) as caught:
        parse_dat(data, "cell_cyt01.dat")
    assert caught.value.line == line
    assert words in caught.value.message
    assert "cell_cyt01.dat" in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_vertices_or_the_typed_error(data):
    try:
        polygon = parse_dat(data)
    except DatFormatError:
        return
    assert polygon.vertices.shape[1] == 2
    assert len(polygon.vertices) >= 3
    assert np.isfinite(polygon.vertices).all()


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="0123456789.,-; \t\r\nabe+", max_size=200),
)
def test_any_text_gives_vertices_or_the_typed_error(text):
    try:
        parse_dat(text.encode())
    except DatFormatError:
        pass


coordinates = st.floats(min_value=0, max_value=5000, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(coordinates, coordinates), min_size=3, max_size=40),
    st.sampled_from([None, 1, 2, -1]),
    st.sampled_from([",", ", ", " "]),
    st.sampled_from(["\n", "\r\n"]),
)
def test_written_vertices_read_back_in_the_same_style(points, decimals, sep, newline):
    style = DatStyle(decimals=decimals, separator=sep, newline=newline)
    data = format_dat(np.array(points), style)
    polygon = parse_dat(data)
    tolerance = 0.5 if decimals is None else (0 if decimals == -1 else 10**-decimals)
    np.testing.assert_allclose(polygon.vertices, points, atol=tolerance + 1e-9)
    assert format_dat(polygon.vertices, polygon.style) == data
    assert math.isfinite(polygon.vertices.sum())
