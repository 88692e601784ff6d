"""The user guide and the README cannot drift from the application: every link
and picture they name exists, every keyboard shortcut and menu path they list is
the window's own, and every `cervix` option they show is one the command takes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
GUIDE = REPOSITORY / "docs" / "guide"
PAGES = sorted(GUIDE.glob("*.md")) + [REPOSITORY / "README.md"]
DECISIONS = sorted((REPOSITORY / "docs" / "decisions").glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
MENU_PATH = re.compile(r"\*\*([^*]+?(?: ▸ [^*]+?)+)\*\*")
CODE_SPAN = re.compile(r"`([^`]+)`")
# Keys of the tools and the gallery, as written in the guide -> Qt's key name.
QT_KEY_NAMES = {"Esc": "Escape", "Enter": "Return", "Delete": "Delete"}


def heading_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped,
    spaces as hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    return {
        heading_anchor(line.lstrip("#"))
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def links_of(page: Path) -> list[str]:
    return LINK.findall(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "page", PAGES + DECISIONS, ids=lambda page: page.relative_to(REPOSITORY).as_posix()
)
def test_every_link_and_picture_resolves(page):
    broken = []
    for target in links_of(page):
        if re.match(r"[a-z]+:", target):
            continue  # a web address; not checked offline
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md":
            if anchor not in anchors_of(resolved):
                broken.append(f"{target}: no heading #{anchor} in {resolved.name}")
    assert not broken, f"{page.name} has broken links: {broken}"


def test_the_pictures_are_screenshots_in_png():
    pictures = {
        (page.parent / target).resolve()
        for page in PAGES
        for target in links_of(page)
        if target.endswith(".png")
    }
    assert pictures, "the guide shows no pictures"
    for picture in pictures:
        with picture.open("rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n", f"{picture} is not a PNG"
    guide_pictures = {p.name for p in pictures if p.name.startswith("guide-")}
    assert "guide-main-window.png" in guide_pictures


def test_the_guides_pictures_are_the_ones_the_screenshot_script_takes():
    """A guide-*.png the script does not take would be a picture nobody can take
    again of the current window."""
    script = (REPOSITORY / "docs" / "screenshots.py").read_text(encoding="utf-8")
    shown = {
        Path(target).name
        for page in PAGES
        for target in links_of(page)
        if Path(target).name.startswith("guide-")
    }
    assert shown
    not_taken = sorted(name for name in shown if f'"{name}"' not in script)
    assert not not_taken, f"docs/screenshots.py does not take {not_taken}"


def test_the_readme_leads_with_a_screenshot_the_commands_and_the_guide():
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    first_picture = readme.index("![")
    assert first_picture < readme.index("make run") < readme.index("docs/guide/")
    assert "make test" in readme


# -- the window's shortcuts and menus ------------------------------------------


def menu_table_rows(section: str) -> list[list[str]]:
    """The rows (cells as text) of the table under `## section` in shortcuts.md."""
    text = (GUIDE / "shortcuts.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in body.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows[1:]  # without the header


@pytest.fixture(scope="module")
def window_actions(tmp_path_factory):
    """(menu path, portable key texts) of each action of a fresh main window
    with the default five classes."""
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from cervix_gui.main_window import MainWindow
    from cervix_gui.palette import ClassPalette
    from engine.annotations import ClassScheme

    settings_file = tmp_path_factory.mktemp("guide") / "settings.ini"
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.editing.menu.set_classes(ClassPalette(ClassScheme()))

    portable_text = QKeySequence.SequenceFormat.PortableText

    def keys_of(action) -> set[str]:
        return {key.toString(portable_text) for key in action.shortcuts()} - {""}

    actions: list[tuple[str, set[str]]] = []

    def walk(menu, trail):
        for action in menu.actions():
            text = action.text().replace("&", "")
            if text:
                actions.append((" ▸ ".join([*trail, text]), keys_of(action)))
            if action.menu() is not None:
                walk(action.menu(), [*trail, text])

    for top in window.menuBar().actions():
        walk(top.menu(), [top.text().replace("&", "")])
    # Shortcuts of actions that are in no menu (Python wrappers of one action
    # are not always the same object, so they are matched by text and keys).
    in_menus = {(path.rsplit(" ▸ ", 1)[-1], frozenset(keys)) for path, keys in actions}
    for action in window.findChildren(QAction):
        keys = keys_of(action)
        name = action.text().replace("&", "")
        if keys and (name, frozenset(keys)) not in in_menus:
            actions.append(("", keys))
    yield actions
    window.close()
    app.processEvents()


def portable(key: str) -> str:
    from PySide6.QtGui import QKeySequence

    return QKeySequence(key).toString(QKeySequence.SequenceFormat.PortableText)


def test_every_shortcut_listed_is_the_windows_under_its_menu(window_actions):
    wrong = []
    for keys_cell, command, _what in menu_table_rows("In the menus"):
        menu = MENU_PATH.search(command).group(1)
        for key in CODE_SPAN.findall(keys_cell):
            owners = [path for path, keys in window_actions if portable(key) in keys]
            if not any(path.startswith(menu) for path in owners):
                wrong.append(f"{key} ({menu}): the window has it on {owners or 'none'}")
    assert not wrong, wrong


def test_every_shortcut_of_the_window_is_listed(window_actions):
    listed = {
        portable(key)
        for keys_cell, _command, _what in menu_table_rows("In the menus")
        for key in CODE_SPAN.findall(keys_cell)
    }
    missing = [
        f"{path or 'an action outside the menus'}: {sorted(keys)}"
        for path, keys in window_actions
        if keys and not keys & listed
    ]
    assert not missing, f"shortcuts.md does not list: {missing}"


def test_every_menu_path_the_guide_names_exists(window_actions):
    menu_paths = {path for path, _keys in window_actions if path}
    missing = []
    for page in PAGES:
        for named in MENU_PATH.findall(page.read_text(encoding="utf-8")):
            if not any(path.startswith(named) for path in menu_paths):
                missing.append(f"{page.name}: {named}")
    assert not missing, f"no such menu command: {missing}"


def test_every_key_of_the_tools_and_gallery_is_handled_in_the_code():
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (REPOSITORY / "cervix_gui").rglob("*.py")
    )
    rows = menu_table_rows("In the viewer, a tool or the gallery")
    assert rows
    unhandled = []
    for keys_cell, where, _what in rows:
        for key in CODE_SPAN.findall(keys_cell):
            name = key.split("+")[-1].replace(" (held)", "")
            name = QT_KEY_NAMES.get(name, name)
            if f"Qt.Key.Key_{name}" not in sources:
                unhandled.append(f"{key} ({where})")
    assert not unhandled, f"no Qt.Key handling for: {unhandled}"


# -- the command line ------------------------------------------------------------


def documented_commands() -> list[tuple[str, list[str], str]]:
    """(page, command words, line) for each `cervix ...` line in a code block."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8").replace("\\\n", " ")
        for block in re.findall(r"```\n(.*?)```", text, flags=re.DOTALL):
            for line in block.splitlines():
                line = line.split("#", 1)[0].strip().removeprefix("$ ")
                if line.startswith("cervix "):
                    found.append((page.name, line.split()[1:], line))
    return found


def command_source(words: list[str]) -> str | None:
    """The source of the module that defines `cervix WORDS[0]`, or None. Read, not
    imported: the training commands import torch, which takes seconds."""
    name = words[0].replace("-", "_")
    commands = REPOSITORY / "engine" / "cli" / "commands"
    for candidate in (commands / f"{name}.py", commands / f"{name}_.py"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return None


def test_every_cervix_command_and_option_the_guide_shows_exists():
    nested = {"import": 1, "review": 1}
    wrong = []
    for page, words, line in documented_commands():
        source = command_source(words)
        if source is None:
            wrong.append(f"{page}: {line}: no command {words[0]!r}")
            continue
        for action in words[1 : 1 + nested.get(words[0], 0)]:
            if f'"{action}"' not in source:
                wrong.append(f"{page}: {line}: no {words[0]} action {action!r}")
        for option in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", line):
            if f'"{option}"' not in source:
                wrong.append(f"{page}: {line}: no option {option}")
    assert len(documented_commands()) > 10
    assert not wrong, wrong
