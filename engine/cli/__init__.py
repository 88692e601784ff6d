"""The `cervix` command: the engine without a window.

Each sub-command lives in its own module under `engine.cli.commands` and
registers itself through `register(subparsers)`; the module sets
`func(args) -> int` on its parser. Errors the user can cause are printed as
one clear line and give a non-zero exit status.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import logging
import os
import pkgutil
import sys
from pathlib import Path

from engine import __version__
from engine.errors import CervixError

log = logging.getLogger(__name__)

# 128 + SIGPIPE, the status a shell shows for a command whose reader closed.
EXIT_BROKEN_PIPE = 141


def _command_names() -> list[str]:
    from engine.cli import commands

    return sorted(info.name for info in pkgutil.iter_modules(commands.__path__))


def _named_command(argv: list[str] | None) -> str | None:
    """The module of the command named on the command line, if there is one."""
    words = [word for word in (argv or []) if not word.startswith("-")]
    if not words:
        return None
    wanted = words[0].replace("-", "_")
    names = _command_names()
    return next((n for n in (wanted, f"{wanted}_") if n in names), None)


def _summary(name: str) -> str:
    """A command module's SUMMARY, read from its source: the help listing must not
    import every module (and with them torch) just to print one line each."""
    from engine.cli import commands

    try:
        source = Path(commands.__path__[0], f"{name}.py").read_text(encoding="utf-8")
    except OSError:  # a frozen application ships no sources: import it after all
        module = importlib.import_module(f"engine.cli.commands.{name}")
        return getattr(module, "SUMMARY", "")
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "SUMMARY" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            return node.value.value
    return ""


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
    named = _named_command(argv)
    if named is not None:
        # Only the named command is imported, so `cervix index` does not pay
        # for importing torch.
        importlib.import_module(f"engine.cli.commands.{named}").register(subparsers)
        return parser
    for name in _command_names():
        subparsers.add_parser(name.rstrip("_").replace("_", "-"), help=_summary(name))
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
