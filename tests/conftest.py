"""Shared fixtures. Every test runs the real ngspice (shared library or `ngspice -b`)."""
from __future__ import annotations

import pytest

from spicefet.engine import LADDER, Engine
from spicefet.params import load_params


@pytest.fixture(scope="session")
def engine():
    """A shared-library engine without cache and without retries: tests see raw behaviour."""
    with Engine("shared", timeout_s=120, cache=None, ladder=LADDER[:1]) as eng:
        yield eng


@pytest.fixture(scope="session")
def cli_engine():
    with Engine("cli", timeout_s=120, cache=None, ladder=LADDER[:1]) as eng:
        yield eng


@pytest.fixture(scope="session")
def params():
    return load_params()
