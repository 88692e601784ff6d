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
import os
import pkgutil
import sys

from engine import __version__
from engine.errors import CervixError

log = logging.getLogger(__name__)

# 128 + SIGPIPE, the status a shell shows for a command whose reader closed.
EXIT_BROKEN_PIPE = 141


def _command_modules(argv: list[str] | None) -> list[str]:
    """The command modules to load: only the one named on the command line when
    there is one (so `cervix index` does not pay for importing torch), else all
    of them, for the help listing."""
    from engine.cli import commands

    names = [info.name for info in pkgutil.iter_modules(commands.__path__)]
    words = [word for word in (argv or []) if not word.startswith("-")]
    if words:
        wanted = words[0].replace("-", "_")
        for name in (wanted, f"{wanted}_"):
            if name in names:
                return [name]
    return sorted(names)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cervix",
        description="Cervix Studio without a window: data, models, inference.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_modules(argv):
        module = importlib.import_module(f"engine.cli.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
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
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe is noticed here, not at exit
        return status
    except BrokenPipeError:
        return _reader_went_away()
    except CervixError as error:
        print(f"cervix {args.command}: {error.user_message()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"cervix {args.command}: interrupted", file=sys.stderr)
        return 130


def _reader_went_away() -> int:
    """The reader of the output has gone (`cervix ... | head`): stop quietly, as
    a command killed by SIGPIPE does, instead of a traceback at exit."""
    # Python flushes stdout once more on the way out; point it at devnull so
    # that last flush has nowhere to fail.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
