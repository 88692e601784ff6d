"""`cervix-gui [PATH]`: start Cervix Studio's window on a dataset folder, an image
or a slide, or on the built-in synthetic sample; `--screenshot` renders the
window to a PNG and exits."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from cervix_gui.collector import install_collector
from cervix_gui.warmup import schedule_warm_up
from engine import __version__
from engine.errors import CervixError
from engine.sample import ensure_sample

log = logging.getLogger(__name__)
qt_log = logging.getLogger("cervix_gui.qt")

DEFAULT_SCREENSHOT_SIZE = (1440, 900)
PIXELS_WAIT_S = 30.0  # how long a screenshot waits for the image and its layers


def parse_size(text: str) -> tuple[int, int]:
    """`WxH` as two positive integers."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size; write it as WIDTHxHEIGHT, e.g. 1440x900"
        ) from None
    if width < 200 or height < 150 or width > 10000 or height > 10000:
        raise argparse.ArgumentTypeError(
            f"{text!r} is too small or too large; use 200x150 to 10000x10000"
        )
    return width, height


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cervix-gui",
        description="Cervix Studio: review Pap-smear images and their annotations.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="a SIPaKMeD dataset folder, an image or a slide "
        "(default: the built-in synthetic sample)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="render the window offscreen to FILE.png and exit",
    )
    parser.add_argument(
        "--image",
        metavar="KEY",
        help="with --screenshot: the image to show, e.g. im_Parabasal/001",
    )
    parser.add_argument(
        "--size",
        type=parse_size,
        default=DEFAULT_SCREENSHOT_SIZE,
        metavar="WxH",
        help="with --screenshot: the window's size (default: %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log")
    parser.add_argument("--version", action="version", version=__version__)
    return parser


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _log_qt_message(kind: QtMsgType, _context, message: str) -> None:
    """Qt's own messages go to the log like everyone else's."""
    level = QT_LEVELS.get(kind, logging.WARNING)
    # The offscreen platform says this of every window it lays out; it says
    # nothing about the window, so it must not clutter a screenshot run.
    if "propagateSizeHints" in message:
        level = logging.DEBUG
    qt_log.log(level, "%s", message)


def _application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        qInstallMessageHandler(_log_qt_message)
        app = QApplication([sys.argv[0] if sys.argv else "cervix-gui"])
    # The organisation names the settings file: ~/.config/Cervix Studio/ on
    # Linux, not "Unknown Organization".
    QCoreApplication.setOrganizationName("Cervix Studio")
    QCoreApplication.setApplicationName("Cervix Studio")
    QCoreApplication.setApplicationVersion(__version__)
    # Lets Wayland desktops match the window to its menu entry and icon.
    QGuiApplication.setDesktopFileName("cervix-studio")
    app.setWindowIcon(
        QIcon(str(Path(__file__).parents[1] / "resources/icons/cervix-studio-256.png"))
    )
    return app


def _say(message: str) -> None:
    """One line for the person at the terminal (the command line's own output)."""
    print(f"cervix-gui: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose > 1
        else (logging.INFO if args.verbose else logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.screenshot is not None:
        # Rendered without a window on screen, also where there is a display.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif not _has_display():
        _say(
            "no display to show the window on (DISPLAY is not set); use "
            "--screenshot FILE.png to render it offscreen"
        )
        return 1
    app = _application()

    # Imported after the platform is chosen: widgets need the application.
    from cervix_gui.main_window import MainWindow

    window = MainWindow()
    if args.screenshot is not None:
        path = args.path
        if path is None:
            try:
                path = ensure_sample()
            except CervixError as error:
                _say(error.user_message())
                return 1
        return take_screenshot(window, path, args.image, args.size, args.screenshot)
    window.show()
    if args.path is None:
        window.open_sample()
    else:
        window.open_path(args.path)
    install_collector(app)
    schedule_warm_up()
    return app.exec()


def take_screenshot(
    window, path: Path, image_key: str | None, size: tuple[int, int], output: Path
) -> int:
    """Render `window` on the dataset, image or slide at `path` to the PNG `output`;
    0 when written."""
    window.resize(*size)
    window.errors_in_dialogs = False
    window.show()
    failures: list[str] = []
    window.opener.failed.connect(lambda _path, message: failures.append(message))
    window.open_path(path)
    _wait_until_shown(window, failures)
    if failures:
        _say(failures[0])
        window.close()
        return 1
    if image_key is not None:
        if not window.browser.select_image(image_key):
            known = ", ".join(window.browser.image_keys()[:5]) or "none"
            _say(f"{path}: has no image {image_key!r} (images include: {known})")
            window.close()
            return 1
        _wait_until_shown(window, failures)
    picture = window.grab()
    output = output.expanduser()
    if not output.parent.is_dir() or not picture.save(str(output), "PNG"):
        _say(
            f"{output}: cannot be written; check that its folder exists and is writable"
        )
        window.close()
        return 1
    log.info(
        "Saved a %dx%d screenshot to %r", picture.width(), picture.height(), str(output)
    )
    window.close()
    return 0


def _wait_until_shown(window, failures: list[str]) -> None:
    """Let the window open its path, lay itself out, and draw every layer (or
    say why not) before grabbing."""
    deadline = time.monotonic() + PIXELS_WAIT_S
    QApplication.processEvents()
    while time.monotonic() < deadline and not failures:
        if not window.busy() and window.viewer.record is not None:
            break
        if not window.busy() and window.viewer.record is None and window.dataset:
            break  # a dataset without images
        QApplication.processEvents()
        time.sleep(0.01)
    QApplication.processEvents()


if __name__ == "__main__":
    sys.exit(main())
