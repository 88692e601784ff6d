"""Cervix Studio's window: the Qt application over the engine's public API."""

import ctypes
import sys

# PySide6 6.12 returns None from every void method (setPen, update, ...)
# without taking a reference to it. Python 3.12+ never frees None, but 3.11
# does, and aborts ("deallocating None") after a few thousand such calls, i.e.
# after seconds of panning. Giving None references that are never returned
# makes it as immortal on 3.11 as it is on 3.12.
if sys.version_info < (3, 12):
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 48
