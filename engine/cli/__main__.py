"""`python -m engine.cli` runs the `cervix` command."""

import sys

from engine.cli import main

sys.exit(main())
