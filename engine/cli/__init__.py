"""The `cervix` command: the engine without a window.

Each sub-command lives in its own module under `engine.cli.commands` and
registers itself through `register(subparsers)`; the module sets
`func(args) -> int` on its parser. Errors the user can cause are printed as
one clear line and give a non-zero exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from engine import __version__
from engine.errors import CervixError

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cervix",
        description="Cervix Studio without a window: data, models, inference.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    from engine.cli import commands

    for module_info in sorted(pkgutil.iter_modules(commands.__path__)):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose > 1
        else (logging.INFO if args.verbose else logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CervixError as error:
        print(f"cervix {args.command}: {error.user_message()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"cervix {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
