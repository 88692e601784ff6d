"""Cervix Studio's window: the Qt application over the engine's public API."""

import ctypes
import sys

# PySide6 6.12 returns None, True and False (from void and bool methods such
# as setPen or isNull) without taking a reference to them, as if they were
# immortal, which they are from Python 3.12 on. Python 3.11 counts them and
# aborts ("deallocating None") after a few thousand such calls, i.e. after
# seconds of panning. References that are never given back make these
# singletons as immortal on 3.11 as they are on 3.12.
if sys.version_info < (3, 12):
    for _singleton in (None, True, False, Ellipsis, NotImplemented):
        ctypes.c_ssize_t.from_address(id(_singleton)).value += 1 << 48
