"""Finding the built-in sample, and drawing it once in the user's data folder."""

from __future__ import annotations

import json

import pytest

import engine.sample as sample
import engine.synthetic
from engine.annotations import Dataset
from engine.errors import CervixError


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "user-data"
    monkeypatch.setenv("CERVIX_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def no_checkout_sample(monkeypatch, tmp_path):
    monkeypatch.setattr(sample, "checkout_sample_path", lambda: tmp_path / "absent")


def _fake_sample(path, **_):
    """A finished sample as make_dataset leaves it: class folders, project last."""
    (path / "im_Parabasal" / "im_Parabasal").mkdir(parents=True)
    (path / ".cervix").mkdir()
    settings = {
        "scheme": {
            "classes": [
                {"name": "parabasal", "folder": "im_Parabasal", "group": "normal"}
            ]
        }
    }
    (path / ".cervix" / "project.json").write_text(
        json.dumps({**settings, "synthetic": True})
    )


def test_checkout_sample_is_preferred_when_it_is_ready(tmp_path, monkeypatch, data_dir):
    checkout = tmp_path / "repo" / "sample" / "sipakmed-synthetic"
    monkeypatch.setattr(sample, "checkout_sample_path", lambda: checkout)
    assert sample.default_sample_path() == data_dir / "sample" / "sipakmed-synthetic"

    _fake_sample(checkout)
    assert sample.default_sample_path() == checkout
    assert sample.ensure_sample() == checkout


def test_checkout_sample_lives_in_the_repository():
    path = sample.checkout_sample_path()
    assert path is not None  # the tests run from a checkout
    assert (path.parent.parent / "pyproject.toml").is_file()
    assert path.name == "sipakmed-synthetic"


def test_user_data_dir_follows_xdg_without_override(monkeypatch, tmp_path):
    monkeypatch.delenv("CERVIX_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sample.sys.platform.startswith("linux"):
        assert sample.user_data_dir() == tmp_path / "xdg" / "cervix-studio"


def test_missing_sample_is_drawn_once_in_the_user_folder(
    data_dir, no_checkout_sample, monkeypatch
):
    calls = []

    def draw(path, images_per_class, seed):
        calls.append((path, images_per_class, seed))
        _fake_sample(path)

    monkeypatch.setattr(engine.synthetic, "make_dataset", draw)

    path = sample.ensure_sample()
    assert path == data_dir / "sample" / "sipakmed-synthetic"
    assert sample.is_dataset_ready(path)
    assert Dataset.open(path).settings.synthetic
    assert calls[0][1:] == (4, 7)
    assert calls[0][0] != path  # drawn aside, then renamed into place

    assert sample.ensure_sample() == path
    assert len(calls) == 1
    leftovers = [p.name for p in path.parent.iterdir() if p.name != path.name]
    assert leftovers == []


def test_failed_drawing_leaves_no_half_sample(
    data_dir, no_checkout_sample, monkeypatch
):
    def draw(path, **_):
        (path / "im_Parabasal").mkdir(parents=True)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine.synthetic, "make_dataset", draw)

    with pytest.raises(CervixError, match="No space left") as raised:
        sample.ensure_sample()
    assert "CERVIX_DATA_DIR" in raised.value.user_message()
    assert list((data_dir / "sample").iterdir()) == []


def test_a_foreign_folder_in_the_way_is_not_deleted(
    data_dir, no_checkout_sample, monkeypatch
):
    in_the_way = data_dir / "sample" / "sipakmed-synthetic"
    in_the_way.mkdir(parents=True)
    (in_the_way / "notes.txt").write_text("mine")

    with pytest.raises(CervixError, match="in the way"):
        sample.ensure_sample()
    assert (in_the_way / "notes.txt").read_text() == "mine"
