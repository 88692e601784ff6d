"""Converting public cervical cytology datasets (Herlev, ISBI 2014) into new
SIPaKMeD-layout datasets that Cervix Studio opens like any other."""

from engine.annotations.importers.common import (
    DestinationNotEmptyError,
    ImportReport,
    ImportWarning,
)
from engine.annotations.importers.herlev import HERLEV_CLASSES, import_herlev
from engine.annotations.importers.isbi2014 import import_isbi2014

__all__ = [
    "HERLEV_CLASSES",
    "DestinationNotEmptyError",
    "ImportReport",
    "ImportWarning",
    "import_herlev",
    "import_isbi2014",
]
