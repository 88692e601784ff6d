"""The packaging recipes name files that exist and say what desktops need, so a
build or an install fails here, in seconds, rather than after a long build."""

from __future__ import annotations

import ast
import configparser
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11 and newer

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "cervix-studio.spec"
DESKTOP = PACKAGING / "linux" / "cervix-studio.desktop"
METAINFO = PACKAGING / "linux" / "org.cervixstudio.CervixStudio.metainfo.xml"
ICONS = ROOT / "resources" / "icons"


def spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def spec_paths() -> list[Path]:
    """Every `HERE / "..."` and `ROOT / "..." / "..."` path that the spec names."""
    bases = {"HERE": PACKAGING, "ROOT": ROOT}

    def resolve(node: ast.AST) -> Path | None:
        if isinstance(node, ast.Name):
            return bases.get(node.id)
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and isinstance(node.right, ast.Constant)
            and isinstance(node.right.value, str)
        ):
            left = resolve(node.left)
            return None if left is None else left / node.right.value
        return None

    paths = []
    for node in ast.walk(spec_tree()):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            path = resolve(node)
            if path is not None and "." in path.name:  # a file, not a folder
                paths.append(path)
    return paths


def executable_names() -> set[str]:
    """The `name=` of each EXE in the spec, with the spec's NAME constant."""
    tree = spec_tree()
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "EXE":
            for keyword in node.keywords:
                if keyword.arg != "name":
                    continue
                value = keyword.value
                if isinstance(value, ast.Name):
                    names.add(constants[value.id])
                else:
                    names.add(value.value)
    return names


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return struct.unpack(">II", header[16:24])


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_spec_names_files_that_exist():
    paths = spec_paths()
    names = {path.name for path in paths}
    assert {"launch_gui.py", "launch_cli.py", "cervix-studio-256.png"} <= names
    missing = [str(path) for path in paths if not path.is_file()]
    assert not missing, f"the spec names files that do not exist: {missing}"


def test_spec_builds_the_window_and_the_command_line():
    assert executable_names() == {"cervix-studio", "cervix"}
    text = SPEC.read_text(encoding="utf-8")
    # Sub-commands and docks are imported lazily; without these the bundle
    # starts but `cervix train` or a dock fails on a workstation.
    assert 'collect_submodules("engine")' in text
    assert 'collect_submodules("cervix_gui")' in text


def test_entry_scripts_start_the_same_programs_as_the_installed_commands():
    scripts = pyproject()["project"]["scripts"]
    for launcher, command in (
        ("launch_gui.py", "cervix-gui"),
        ("launch_cli.py", "cervix"),
    ):
        module, function = scripts[command].split(":")
        source = (PACKAGING / launcher).read_text(encoding="utf-8")
        ast.parse(source)
        assert f"from {module} import {function}" in source


def test_desktop_entry_has_the_keys_a_menu_needs():
    entry = desktop_entry()
    for key in ("Type", "Name", "Comment", "Exec", "Icon", "Categories"):
        assert entry.get(key), f"{DESKTOP} has no {key}"
    assert entry["Type"] == "Application"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")


def test_desktop_entry_starts_the_window_with_its_icon():
    entry = desktop_entry()
    program = entry["Exec"].split()[0]
    assert program in executable_names()
    assert program == entry["TryExec"]
    assert (ICONS / f"{entry['Icon']}.svg").is_file()
    assert (ICONS / f"{entry['Icon']}-256.png").is_file()


def test_icon_sizes_are_square_pngs_of_their_named_size():
    sizes = sorted(int(path.stem.rsplit("-", 1)[1]) for path in ICONS.glob("*-*.png"))
    assert {16, 32, 48, 128, 256} <= set(sizes)
    for size in sizes:
        assert png_size(ICONS / f"cervix-studio-{size}.png") == (size, size)


def test_metainfo_is_well_formed_and_matches_the_project():
    component = ElementTree.parse(METAINFO).getroot()
    project = pyproject()["project"]

    assert component.tag == "component"
    assert component.get("type") == "desktop-application"
    for tag in ("id", "name", "summary", "description", "metadata_license"):
        assert (component.findtext(tag) or component.find(tag)) is not None, tag
    assert component.findtext("project_license") == project["license"]
    assert component.findtext("launchable") == DESKTOP.name
    assert component.find("launchable").get("type") == "desktop-id"
    assert component.find("releases/release").get("version") == project["version"]
    binaries = {element.text for element in component.iterfind("provides/binary")}
    assert binaries == executable_names()


def test_metainfo_screenshot_is_the_one_in_the_repository():
    component = ElementTree.parse(METAINFO).getroot()
    image = component.findtext("screenshots/screenshot/image")
    assert image.startswith("https://")
    assert image.endswith("/docs/images/main-window.png")
    assert (ROOT / "docs" / "images" / "main-window.png").is_file()


@pytest.mark.parametrize("script", ["build.sh", "smoke_test.sh", "linux/install.sh"])
def test_shell_scripts_parse(script):
    result = subprocess.run(
        ["bash", "-n", str(PACKAGING / script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None,
    reason="desktop-file-validate is not installed (Debian: desktop-file-utils)",
)
def test_desktop_entry_passes_desktop_file_validate():
    result = subprocess.run(
        ["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
