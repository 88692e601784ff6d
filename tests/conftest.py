"""Fixtures every test folder may use: where the real sample data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The real public samples: $CERVIX_SHARED_DATA, else `<repo>/../shared/data`."""
    configured = os.environ.get("CERVIX_SHARED_DATA")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f"the real sample data is not at {folder}; set CERVIX_SHARED_DATA")
    return folder
