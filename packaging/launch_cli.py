"""Start point of the bundled `cervix` executable: the engine without a window."""

import multiprocessing
import os
import sys

if __name__ == "__main__":
    # Spawned worker processes of a frozen program re-enter here; this returns
    # at once in the parent.
    multiprocessing.freeze_support()
    # The workstation is offline: no library may look for updates at start.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

    from engine.cli import main

    sys.exit(main())
