"""A synthetic sample drawn once for the synthetic-data tests."""

from __future__ import annotations

import pytest

from engine.synthetic import make_dataset


@pytest.fixture(scope="session")
def default_sample(tmp_path_factory):
    """The sample `cervix synth` draws with its default settings."""
    return make_dataset(tmp_path_factory.mktemp("synthetic") / "sample")
